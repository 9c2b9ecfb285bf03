"""Consume cursors: what one signs, only the same key verifies, for the same topic and group, unaltered."""

import base64
import json

import pytest

from onboarding.gateway.cursor import CursorError, cursor_key, sign, verify

KEY = cursor_key("", "a-django-secret-key-that-is-long-enough-for-tests")


def test_a_cursor_round_trips_its_offsets():
    cursor = sign(KEY, topic="payments.orders", group="payments.billing", offsets={0: 5, 2: 0, 1: 17})

    assert verify(KEY, cursor, topic="payments.orders", group="payments.billing") == {0: 5, 1: 17, 2: 0}
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")  # URL-safe


def test_an_altered_offset_is_refused():
    cursor = sign(KEY, topic="payments.orders", group="payments.billing", offsets={0: 5})
    payload, signature = cursor.split(".")
    document = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    document["offsets"]["0"] = 0  # rewind without the key
    forged = base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode() + "." + signature

    with pytest.raises(CursorError, match="signature"):
        verify(KEY, forged, topic="payments.orders", group="payments.billing")


@pytest.mark.parametrize("garbage", ["", "abc", "abc.", ".abc", "a b.c", "x" * 70000, "eyJ9.!!!"])
def test_garbage_is_refused(garbage):
    with pytest.raises(CursorError):
        verify(KEY, garbage, topic="t", group="g")


def test_another_topics_or_groups_cursor_is_refused():
    cursor = sign(KEY, topic="payments.orders", group="payments.billing", offsets={0: 5})

    with pytest.raises(CursorError, match="topic"):
        verify(KEY, cursor, topic="payments.refunds", group="payments.billing")
    with pytest.raises(CursorError, match="group"):
        verify(KEY, cursor, topic="payments.orders", group="payments.other")


def test_another_keys_cursor_is_refused_and_the_configured_secret_wins():
    other = cursor_key("", "another-django-secret-key-that-is-long-enough")
    configured = cursor_key("gateway-cursor-secret", "a-django-secret-key-that-is-long-enough-for-tests")
    cursor = sign(other, topic="t", group="g", offsets={0: 1})

    assert len({KEY, other, configured}) == 3
    assert KEY != b"a-django-secret-key-that-is-long-enough-for-tests"  # derived, never the secret key itself
    with pytest.raises(CursorError, match="signature"):
        verify(KEY, cursor, topic="t", group="g")
