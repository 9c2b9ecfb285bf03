"""/teams/<slug>/webhooks/: owners add (secret shown once), rotate, delete, test and set e-mail recipients;
members read; outsiders get 404. Form errors carry the same text as the API's."""

import pytest

from onboarding.models import NotificationDelivery, Webhook
from onboarding.notifications.webhooks import webhook_create, webhook_secret
from tests.integration.notifications.conftest import WEBHOOKS

pytestmark = pytest.mark.django_db
PAGE = "/teams/payments/webhooks/"


def _hook(alice, payments):
    hook, _ = webhook_create(actor=alice, team=payments, name="ci", url="https://a.example.org/",
                             events=["resource.drifted"])
    return hook


def test_an_owner_adds_a_webhook_and_sees_the_secret_only_on_that_answer(client_for, alice):
    client = client_for(alice)
    answer = client.post(PAGE, {"name": "ci", "url": "https://hooks.example.org/x",
                                "events": ["resource.drifted", "change_request.failed"]})

    assert answer.status_code == 200
    assert "no-store" in answer["Cache-Control"]
    hook = Webhook.objects.get(name="ci")
    assert hook.events == ["resource.drifted", "change_request.failed"]
    secret = webhook_secret(hook)
    assert secret in answer.content.decode()
    page = client.get(PAGE).content.decode()
    assert "https://hooks.example.org/x" in page and secret not in page

    rotated = client.post(f"/webhooks/{hook.pk}/rotate/")
    hook.refresh_from_db()
    assert webhook_secret(hook) != secret and webhook_secret(hook) in rotated.content.decode()


def test_an_owner_sends_a_test_event_and_deletes_a_webhook(client_for, alice, payments):
    hook = _hook(alice, payments)
    client = client_for(alice)

    assert client.post(f"/webhooks/{hook.pk}/test/").status_code == 302
    delivery = NotificationDelivery.objects.get(webhook=hook)
    assert delivery.event == "webhook.test"
    assert f'data-testid="delivery-{delivery.pk}"' in client.get(PAGE).content.decode()

    assert client.post(f"/webhooks/{hook.pk}/delete/").status_code == 302
    assert not Webhook.objects.filter(pk=hook.pk).exists()


def test_an_owner_sets_the_email_recipients_and_bad_addresses_are_field_errors(client_for, alice, payments):
    client = client_for(alice)

    assert client.post(f"{PAGE}emails/", {"notification_emails": "a@example.org\nB@example.org"}).status_code == 302
    payments.refresh_from_db()
    assert payments.notification_emails == ["a@example.org", "b@example.org"]

    refused = client.post(f"{PAGE}emails/", {"notification_emails": "a@example.org, nope"})
    assert refused.status_code == 400
    assert "&#x27;nope&#x27; is not a valid e-mail address." in refused.content.decode()


def test_members_read_the_page_but_cannot_change_anything(client_for, alice, bob, payments):
    hook = _hook(alice, payments)
    client = client_for(bob)
    page = client.get(PAGE)
    assert page.status_code == 200 and "https://a.example.org/" in page.content.decode()
    assert 'data-testid="add-webhook"' not in page.content.decode()
    assert client.post(PAGE, {"name": "x", "url": "https://b.example.org/", "events": ["resource.drifted"]}
                       ).status_code == 403
    for path in (f"/webhooks/{hook.pk}/rotate/", f"/webhooks/{hook.pk}/delete/", f"/webhooks/{hook.pk}/test/",
                 f"{PAGE}emails/"):
        assert client.post(path).status_code == 403
    assert Webhook.objects.count() == 1


def test_outsiders_get_404(client_for, alice, carol, payments):
    hook = _hook(alice, payments)
    client = client_for(carol)
    assert client.get(PAGE).status_code == 404
    for path in (f"/webhooks/{hook.pk}/rotate/", f"/webhooks/{hook.pk}/delete/", f"/webhooks/{hook.pk}/test/"):
        assert client.post(path).status_code == 404


@pytest.mark.parametrize(("field", "value"), [
    ("url", "ftp://hooks.example.org/"),
    ("events", ["resource.drifted", "topic.exploded"]),
    ("events", []),
])
def test_the_form_shows_the_same_field_error_as_the_api(client_for, api_as, alice, field, value):
    good = {"name": "ci", "url": "https://hooks.example.org/portal", "events": ["resource.drifted"]}
    api_errors = api_as(alice).post(WEBHOOKS, {**good, "team": "payments", field: value}, format="json").json()
    [message] = api_errors["errors"][field]

    answer = client_for(alice).post(PAGE, {**good, field: value})

    assert answer.status_code == 400
    form = answer.context["form"]
    assert form.errors[field] == [message]
    assert not Webhook.objects.exists()
