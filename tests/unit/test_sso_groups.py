"""Which team roles a person's single sign-on groups give: the strongest role per team wins."""

from onboarding.sso import groups_in, team_roles_for

MAP = {"leads": [("payments", "owner")], "devs": [("payments", "member"), ("clinical", "member")],
       "readers": [("clinical", "viewer")], "also-devs": [("payments", "member")]}


def test_the_strongest_role_per_team_wins_and_names_its_groups():
    assert team_roles_for(["readers", "devs", "also-devs", "unknown"], MAP) == {
        "payments": ("member", ["devs", "also-devs"]), "clinical": ("member", ["devs"])}
    assert team_roles_for(["devs", "leads"], MAP)["payments"] == ("owner", ["leads"])
    assert team_roles_for([], MAP) == {}


def test_the_groups_claim_may_be_a_list_or_one_group():
    assert groups_in({"groups": ["a", "b", 3]}, "groups") == ["a", "b"]
    assert groups_in({"roles": "a"}, "roles") == ["a"]
    assert groups_in({"groups": None}, "groups") == [] and groups_in({}, "groups") == []
