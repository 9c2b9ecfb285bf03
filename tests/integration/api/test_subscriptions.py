"""Subscriptions and service accounts through the API: the same rules as the services, as HTTP answers."""

import pytest
from django.contrib.auth import get_user_model

from onboarding.models import AuditEvent, Membership, ResourceStatus, ServiceAccount, Subscription, Topic
from onboarding.services.teams import membership_set
from tests.integration.subscriptions.helpers import make_account, make_topic

pytestmark = pytest.mark.django_db
SUBS = "/api/v1/subscriptions/"
ACCOUNTS = "/api/v1/service-accounts/"


@pytest.fixture
def source(cluster, carol, clinical):
    """A public clinical topic whose subscriptions need approval."""
    topic = make_topic(carol, cluster, clinical)
    Topic.objects.filter(pk=topic.pk).update(subscriptions_need_approval=True)
    return topic


@pytest.fixture
def reader(cluster, payments):
    return make_account(cluster, payments)


def ask(client, source, reader, **fields):
    body = {"subscriber": "payments", "source": source.pk, "service_account": reader.pk, "mode": "direct",
            "reason": "Billing needs the admissions.", **fields}
    return client.post(SUBS, body, format="json")


def test_a_public_topic_is_approved_at_once_and_the_request_is_listed_on_both_sides(api_as, alice, carol, cluster,
                                                                                   clinical, reader):
    free = make_topic(carol, cluster, clinical)
    answer = ask(api_as(alice), free, reader)

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["decision"], body["status"], body["decided_by"]) == ("approved", "pending", None)
    assert body["decision_comment"] == "approved automatically: public topic"
    assert answer["Location"].endswith(f"{SUBS}{body['id']}/")
    for user, side in ((alice, "subscriber"), (carol, "source")):
        listed = api_as(user).get(SUBS, {"side": side}).json()["results"]
        assert [s["id"] for s in listed] == [body["id"]]
    assert api_as(alice).get(SUBS, {"side": "source"}).json()["results"] == []


def test_a_request_waits_and_only_another_owner_of_the_topic_team_decides(api_as, alice, carol, source, reader):
    sub = ask(api_as(alice), source, reader).json()
    assert sub["decision"] == "requested"
    membership_set(actor=carol, team=source.team, user=alice, role=Membership.Role.OWNER)

    own = api_as(get_user_model().objects.get(pk=alice.pk)).post(f"{SUBS}{sub['id']}/approve/", {}, format="json")
    assert own.status_code == 403 and "someone else" in own.json()["detail"]

    approved = api_as(carol).post(f"{SUBS}{sub['id']}/approve/", {"comment": "fine"}, format="json")
    assert approved.status_code == 200, approved.content
    assert (approved.json()["decision"], approved.json()["decided_by"]) == ("approved", "carol")


def test_an_outsider_cannot_approve_and_a_stranger_does_not_see_it(api_as, alice, bob, carol, source, reader,
                                                                  operator):
    sub = ask(api_as(bob), source, reader).json()

    assert api_as(alice).post(f"{SUBS}{sub['id']}/approve/", {}, format="json").status_code == 403
    dave = get_user_model().objects.create_user("dave")
    assert api_as(dave).get(f"{SUBS}{sub['id']}/").status_code == 404
    assert api_as(dave).post(f"{SUBS}{sub['id']}/approve/", {}, format="json").status_code == 404
    assert api_as(operator).post(f"{SUBS}{sub['id']}/approve/", {}, format="json").status_code == 200


def test_a_rejection_applies_nothing(api_as, alice, carol, source, reader):
    sub = ask(api_as(alice), source, reader).json()

    answer = api_as(carol).post(f"{SUBS}{sub['id']}/reject/", {"comment": "no PHI"}, format="json")

    assert answer.status_code == 200
    row = Subscription.objects.get(pk=sub["id"])
    assert (row.decision, row.decision_comment, row.generation, row.delete_requested_at) == (
        "rejected", "no PHI", sub["generation"], None)
    again = api_as(carol).post(f"{SUBS}{sub['id']}/approve/", {}, format="json")
    assert again.status_code == 400 and "Only waiting requests" in again.json()["errors"]["non_field_errors"][0]


@pytest.mark.parametrize("who", ["bob", "carol"])
def test_either_side_revokes(request, api_as, alice, carol, source, reader, who):
    sub = ask(api_as(alice), source, reader).json()
    api_as(carol).post(f"{SUBS}{sub['id']}/approve/", {}, format="json")

    answer = api_as(request.getfixturevalue(who)).post(f"{SUBS}{sub['id']}/revoke/", {"comment": "done"},
                                                       format="json")

    assert answer.status_code == 200, answer.content
    assert (answer.json()["decision"], answer.json()["status"]) == ("revoked", ResourceStatus.DELETING)


def test_a_routed_request_creates_its_destination_or_says_what_the_policy_wants(api_as, alice, source, reader):
    bad = ask(api_as(alice), source, reader, mode="routed", destination_name="clinical.copy")
    assert bad.status_code == 400 and "pattern" in bad.json()["errors"]["destination_name"][0]

    good = ask(api_as(alice), source, reader, mode="routed", destination_name="payments.clinical-copy",
               filter="value.ward == 'ICU'")
    assert good.status_code == 201, good.content
    assert (good.json()["destination_name"], good.json()["destination"]) == ("payments.clinical-copy", None)
    # The request waits for approval: the topic is created only when it is approved.
    assert not AuditEvent.objects.filter(action="topic.create", resource_name="payments.clinical-copy").exists()

    patched = api_as(alice).patch(f"{SUBS}{good.json()['id']}/", {"filter": "value.ward =="}, format="json")
    assert patched.status_code == 400 and "column 14" in patched.json()["errors"]["filter"][0]
    patched = api_as(alice).patch(f"{SUBS}{good.json()['id']}/", {"filter": "value.ward"}, format="json")
    assert (patched.status_code, patched.json()["filter"]) == (200, "value.ward")


def test_invalid_filters_duplicates_and_private_topics(api_as, alice, carol, cluster, clinical, source, reader):
    client = api_as(alice)
    bad = ask(client, source, reader, mode="routed", destination_name="payments.x", filter="value.ward ==")
    assert bad.status_code == 400
    assert bad.json()["errors"]["filter"] == ["Invalid filter at column 14: the filter ends too early"]

    assert ask(client, source, reader).status_code == 201
    duplicate = ask(client, source, reader)
    assert duplicate.status_code == 400 and "already has" in duplicate.json()["errors"]["non_field_errors"][0]

    secret = make_topic(carol, cluster, clinical, visibility=Topic.Visibility.PRIVATE)
    hidden, missing = ask(client, secret, reader), ask(client, type(secret)(pk=10**9), reader)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_the_filter_test_endpoint(api_as, alice):
    client = api_as(alice)

    def test(**body):
        answer = client.post(f"{SUBS}test-filter/", body, format="json")
        assert answer.status_code == 200, answer.content
        return answer.json()

    assert test(filter="value.ward == 'ICU'", event='{"ward": "ICU"}')["matched"] is True
    assert test(filter="headers.src == 'lab'", event="{}", headers={"src": "ward"})["matched"] is False
    broken = test(filter="value.ward ==", event="{}")
    assert (broken["matched"], broken["column"]) == (None, 14)
    assert client.post(f"{SUBS}test-filter/", {"filter": "value"}, format="json").status_code == 400


def test_a_read_token_cannot_request(api_as, alice, source, reader):
    assert ask(api_as(alice, scope="read"), source, reader).status_code == 403


def test_service_accounts_show_the_password_once_rotate_and_delete(api_as, alice, bob, carol, cluster):
    client = api_as(bob)
    created = client.post(ACCOUNTS, {"cluster": "local", "team": "payments", "name": "billing"}, format="json")

    assert created.status_code == 201, created.content
    body = created.json()
    assert body["username"] == "payments.billing" and len(body["password"]) >= 20
    shown = client.get(f"{ACCOUNTS}{body['id']}/").json()
    assert "password" not in shown and shown["principal"] == "User:payments.billing"
    assert [a["id"] for a in api_as(alice).get(ACCOUNTS).json()["results"]] == [body["id"]]
    assert api_as(carol).get(f"{ACCOUNTS}{body['id']}/").status_code == 404

    rotated = client.post(f"{ACCOUNTS}{body['id']}/rotate/", format="json")
    assert rotated.status_code == 200 and rotated.json()["password"] != body["password"]

    deleted = client.delete(f"{ACCOUNTS}{body['id']}/")
    assert deleted.status_code == 202 and deleted.json()["status"] == ResourceStatus.DELETING
    assert ServiceAccount.objects.get(pk=body["id"]).wants_deletion


def test_a_bad_service_account_name_is_a_field_error(api_as, bob, cluster):
    answer = api_as(bob).post(ACCOUNTS, {"cluster": "local", "team": "payments", "name": "Bad_Name"}, format="json")
    assert answer.status_code == 400 and "name" in answer.json()["errors"]
