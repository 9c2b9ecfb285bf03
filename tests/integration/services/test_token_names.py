"""Token names are shown in lists and audit records: control characters are refused on ``name``, with one text
in the service, the browser and the API, for personal and team tokens."""

import pytest

from onboarding.errors import ValidationError
from onboarding.models import ApiToken, AuditEvent
from onboarding.services.tokens import CONTROL_CHARACTERS, team_token_create, token_create

pytestmark = pytest.mark.django_db
VIA = AuditEvent.Via.API
BAD_NAMES = {"line break": "ci\nprod", "escape sequence": "ci \x1b[31mprod", "NUL": "ci\x00", "tab": "ci\tprod",
             "zero-width space": "ci\u200bprod", "bidi override": "ci\u202eprod", "DEL": "ci\x7f"}


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_a_personal_token_name_with_a_control_character_is_refused(alice, name):
    with pytest.raises(ValidationError) as refused:
        token_create(actor=alice, user=alice, name=name, scope="read", via=VIA)

    assert refused.value.message_dict == {"name": [CONTROL_CHARACTERS]}
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_a_team_token_name_with_a_control_character_is_refused(alice, payments, name):
    with pytest.raises(ValidationError) as refused:
        team_token_create(actor=alice, team=payments, name=name, scope="read", via=VIA)

    assert refused.value.message_dict == {"name": [CONTROL_CHARACTERS]}


def test_letters_of_any_script_and_punctuation_are_fine(alice):
    token, _ = token_create(actor=alice, user=alice, name="Zürich CI – nightly (ß/日本)", scope="read", via=VIA)
    assert token.name == "Zürich CI – nightly (ß/日本)"


@pytest.mark.parametrize("name", ["ci\nprod", "ci\x00"], ids=["line break", "NUL"])
def test_the_browser_and_the_api_show_the_same_field_error(client_for, api_as, alice, name):  # noqa: F811
    page = client_for(alice).post("/tokens/", {"name": name, "scope": "read"})
    api = api_as(alice).post("/api/v1/tokens/", {"name": name, "scope": "read"}, format="json")

    assert page.status_code == 400
    assert page.context["form"].errors["name"] == [CONTROL_CHARACTERS]
    assert api.status_code == 400
    assert api.json()["errors"]["name"] == [CONTROL_CHARACTERS]
    assert ApiToken.objects.filter(user=alice).count() == 1  # only the token api_as made to authenticate
