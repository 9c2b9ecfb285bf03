"""The clip filter cuts as truncatechars does for plain text."""

import pytest
from django.template.defaultfilters import truncatechars

from onboarding.templatetags.portal import clip


@pytest.mark.parametrize("text", ["", "Card payments", "x" * 109, "x" * 110, "x" * 111, "Ward é " * 40])
def test_clip_gives_what_truncatechars_gives(text):
    assert clip(text, 110) == truncatechars(text, 110)
