"""An operator onboards a team: a new person is added in the Django admin, the team and its owner through
the API; the new owner then logs in, makes a token and registers the team's first topic."""

from tests.acceptance import steps
from tests.acceptance.conftest import PASSWORDS
from tests.acceptance.http import Api, Browser


def test_an_operator_onboards_a_team_whose_new_owner_registers_its_first_topic(as_user, server, servers, run):
    slug = f"{run}-{server.name[:3]}"
    username, password = f"dana-{slug}", "a long onboarding passphrase 42"
    Browser(servers["runserver"]).log_in("operator", PASSWORDS["operator"]).add_user(username, password)

    operator = as_user("operator", server)
    created = operator.post("teams/", {"slug": slug, "name": f"Acceptance {slug}", "description": "Onboarded.",
                                       "contacts": f"{slug}@example.org"})
    assert created.status_code == 201, created.text
    team = created.json()
    assert created.headers["Location"].endswith(f"/api/v1/teams/{team['id']}/")
    assert team["slug"] == slug

    unknown = operator.post(f"teams/{team['id']}/members/", {"username": f"nobody-{slug}", "role": "owner"})
    assert unknown.status_code == 400 and "username" in unknown.json()["errors"], unknown.text
    member = operator.post(f"teams/{team['id']}/members/", {"username": username, "role": "owner"})
    assert member.status_code == 201, member.text
    listed = operator.ok(f"teams/{team['id']}/members/")
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [(m["username"], m["role"]) for m in rows] == [(username, "owner")]

    # Only operators create teams.
    refused = as_user("alice", server).post("teams/", {"slug": f"{slug}-x", "name": "Not allowed"})
    assert refused.status_code == 403, refused.text

    token = Browser(servers["runserver"]).log_in(username, password).create_token("first token")
    owner = Api(server, token)
    first = steps.topic(owner, name=f"{slug}.first", team=slug)
    assert first["team"] == slug and first["status"] == "ready"
