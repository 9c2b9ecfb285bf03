"""/api/v1/webhooks/: owners manage, members and viewers read, outsiders see nothing; the secret once."""

import pytest

from onboarding.models import AuditEvent, NotificationDelivery, Webhook
from onboarding.notifications.webhooks import webhook_create, webhook_secret
from tests.integration.notifications.conftest import WEBHOOKS

pytestmark = pytest.mark.django_db
GOOD = {"team": "payments", "name": "ci", "url": "https://hooks.example.org/portal", "events": ["resource.drifted"]}


def test_an_owner_adds_a_webhook_and_gets_the_secret_once(api_as, alice):
    client = api_as(alice)

    created = client.post(WEBHOOKS, GOOD, format="json")

    assert created.status_code == 201, created.json()
    body = created.json()
    hook = Webhook.objects.get(pk=body["id"])
    assert body["secret"].startswith("whsec_") and body["secret"] == webhook_secret(hook)
    assert bytes(hook.secret) != body["secret"].encode()  # stored encrypted
    assert "secret" not in client.get(f"{WEBHOOKS}{hook.pk}/").json()
    assert "secret" not in client.get(WEBHOOKS).json()["results"][0]
    event = AuditEvent.objects.get(action="webhook.create")
    assert body["secret"] not in str(event.after)

    rotated = client.post(f"{WEBHOOKS}{hook.pk}/rotate-secret/")
    assert rotated.status_code == 200
    assert rotated.json()["secret"] not in (body["secret"], None)
    hook.refresh_from_db()
    assert webhook_secret(hook) == rotated.json()["secret"]


def test_an_owner_changes_and_deletes_a_webhook_and_the_log_stays(api_as, alice, payments):
    hook, _ = webhook_create(actor=alice, team=payments, name="ci", url="https://a.example.org/",
                             events=["resource.drifted"])
    client = api_as(alice)

    changed = client.patch(f"{WEBHOOKS}{hook.pk}/", {"events": ["change_request.failed"], "is_active": False},
                           format="json")
    assert changed.status_code == 200
    assert changed.json()["events"] == ["change_request.failed"] and changed.json()["is_active"] is False

    sent = client.post(f"{WEBHOOKS}{hook.pk}/test/")
    assert sent.status_code == 202 and sent.json()["event"] == "webhook.test"
    assert [d["id"] for d in client.get(f"{WEBHOOKS}{hook.pk}/deliveries/").json()] == [sent.json()["id"]]

    assert client.delete(f"{WEBHOOKS}{hook.pk}/").status_code == 204
    assert not Webhook.objects.filter(pk=hook.pk).exists()
    delivery = NotificationDelivery.objects.get(pk=sent.json()["id"])
    assert delivery.webhook is None and delivery.status == "gave_up"
    assert [e.action for e in AuditEvent.objects.filter(resource_type="webhook").order_by("at", "id")] == [
        "webhook.create", "webhook.update", "webhook.delete"]


def test_members_and_viewers_read_but_cannot_change(api_as, alice, bob, vera, payments):
    hook, _ = webhook_create(actor=alice, team=payments, name="ci", url="https://a.example.org/",
                             events=["resource.drifted"])
    for user in (bob, vera):
        client = api_as(user)
        assert [h["name"] for h in client.get(WEBHOOKS).json()["results"]] == ["ci"]
        assert client.get(f"{WEBHOOKS}{hook.pk}/").status_code == 200
        refused = client.post(WEBHOOKS, GOOD, format="json")
        assert refused.status_code == 403
        assert refused.json()["detail"] == "Only the team's owners or platform operators can add its webhooks."
        assert client.delete(f"{WEBHOOKS}{hook.pk}/").status_code == 403
        assert client.post(f"{WEBHOOKS}{hook.pk}/rotate-secret/").status_code == 403
    assert Webhook.objects.count() == 1


def test_outsiders_get_404_and_cannot_add_to_the_team(api_as, alice, carol, payments):
    hook, _ = webhook_create(actor=alice, team=payments, name="ci", url="https://a.example.org/",
                             events=["resource.drifted"])
    client = api_as(carol)
    assert client.get(WEBHOOKS).json()["results"] == []
    for answer in (client.get(f"{WEBHOOKS}{hook.pk}/"), client.patch(f"{WEBHOOKS}{hook.pk}/", {}, format="json"),
                   client.delete(f"{WEBHOOKS}{hook.pk}/"), client.get(f"{WEBHOOKS}{hook.pk}/deliveries/"),
                   client.post(f"{WEBHOOKS}{hook.pk}/test/")):
        assert answer.status_code == 404
    refused = client.post(WEBHOOKS, GOOD, format="json")
    assert refused.status_code == 400 and refused.json()["errors"] == {
        "team": ["There is no team with the slug 'payments'."]}
    assert client.get("/api/v1/notification-deliveries/").json()["results"] == []


@pytest.mark.parametrize(("field", "value", "message"), [
    ("url", "ftp://hooks.example.org/", "Enter an http or https URL, e.g. https://hooks.example.org/portal."),
    ("url", "not a url", "Enter an http or https URL, e.g. https://hooks.example.org/portal."),
    ("url", "https://user:pw@hooks.example.org/",
     "Do not put a user name or password in the URL; the signature authenticates the portal."),
    ("events", ["resource.drifted", "topic.exploded"],
     "Unknown event 'topic.exploded'; choose from change_request.created, change_request.approved, "
     "change_request.rejected, change_request.applied, change_request.failed, change_request.withdrawn, "
     "offset_reset.requested, offset_reset.applied, offset_reset.rejected, offset_reset.failed, "
     "offset_reset.withdrawn, resource.drifted."),
    ("events", [], "Choose at least one event."),
    ("name", "", "Enter a name."),
])
def test_bad_input_gets_field_errors(api_as, alice, field, value, message):
    answer = api_as(alice).post(WEBHOOKS, {**GOOD, field: value}, format="json")

    assert answer.status_code == 400
    assert answer.json()["errors"] == {field: [message]}


def test_a_duplicate_name_and_unknown_fields_are_field_errors(api_as, alice, payments):
    webhook_create(actor=alice, team=payments, name="ci", url="https://a.example.org/", events=["resource.drifted"])
    client = api_as(alice)
    assert client.post(WEBHOOKS, GOOD, format="json").json()["errors"] == {
        "name": ["This team already has a webhook with this name."]}
    assert "secret" in client.post(WEBHOOKS, {**GOOD, "name": "x", "secret": "mine"}, format="json").json()["errors"]


def test_owners_replace_the_email_recipients_and_members_cannot(api_as, alice, bob, carol, payments):
    url = f"/api/v1/teams/{payments.pk}/notification-emails/"

    answer = api_as(alice).put(url, {"notification_emails": ["ops@example.org"]}, format="json")
    assert answer.status_code == 200 and answer.json()["notification_emails"] == ["ops@example.org"]

    bad = api_as(alice).put(url, {"notification_emails": ["ops@example.org", "nope"]}, format="json")
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"notification_emails": ["'nope' is not a valid e-mail address."]}
    assert api_as(bob).put(url, {"notification_emails": []}, format="json").status_code == 403
    assert api_as(carol).put(url, {"notification_emails": []}, format="json").status_code == 404
    payments.refresh_from_db()
    assert payments.notification_emails == ["ops@example.org"]
