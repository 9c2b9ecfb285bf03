"""Subscription and service account pages with the Django test client: the services decide, the pages show it."""

from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.html import escape

from onboarding.models import AuditEvent, ServiceAccount, Subscription, Topic
from onboarding.routing import traffic
from onboarding.routing.filters import FilterError, compile_filter
from onboarding.services.service_accounts import decrypt_pending_secret, service_account_create
from onboarding.services.subscriptions import subscription_request
from onboarding.services.topics import topic_create
from tests.fixtures.actors import PASSWORD
from tests.integration.views.htmx import htmx_to

pytestmark = pytest.mark.django_db
Decision = Subscription.Decision


@pytest.fixture
def vitals(carol, cluster, clinical):
    """A public clinical topic whose subscriptions need approval."""
    topic = topic_create(actor=carol, cluster=cluster, team=clinical, name="clinical.vitals", partitions=1,
                         replication_factor=1, visibility=Topic.Visibility.PUBLIC)
    Topic.objects.filter(pk=topic.pk).update(subscriptions_need_approval=True)
    topic.refresh_from_db()
    return topic


@pytest.fixture
def reader(alice, cluster, payments):
    return service_account_create(actor=alice, cluster=cluster, team=payments, name="reader", via="browser")[0]


@pytest.fixture
def request_by_alice(alice, payments, vitals, reader):
    return subscription_request(actor=alice, subscriber=payments, source=vitals, service_account=reader,
                                mode=Subscription.Mode.DIRECT, reason="Billing needs vitals", via="browser")


def _subscribe(client, topic, **fields):
    data = {"mode": "routed", "reason": "We bill the visits", "destination_name": "payments.vitals-copy", **fields}
    return client.post(reverse("onboarding:subscribe", args=[topic.pk]), data)


def test_topic_page_offers_subscribe_to_writers_of_another_team(client_for, alice, carol, vitals, reader):
    assert reverse("onboarding:subscribe", args=[vitals.pk]) in client_for(alice).get(
        reverse("onboarding:topic_detail", args=[vitals.pk])).content.decode()
    # carol's only team is the topic's own: nothing to subscribe.
    assert reverse("onboarding:subscribe", args=[vitals.pk]) not in client_for(carol).get(
        reverse("onboarding:topic_detail", args=[vitals.pk])).content.decode()


def test_subscribe_form_creates_a_request(client_for, alice, payments, vitals, reader):
    client = client_for(alice)
    page = client.get(reverse("onboarding:subscribe", args=[vitals.pk]))
    assert page.status_code == 200 and "payments.reader" in page.content.decode()

    response = _subscribe(client, vitals, subscriber=payments.pk, service_account=reader.pk,
                          filter="value.amount > `100`")

    sub = Subscription.objects.get(source=vitals)
    assert response.status_code == 302
    assert response["Location"] == reverse("onboarding:subscription_detail", args=[sub.pk])
    assert (sub.decision, sub.mode, sub.filter) == (Decision.REQUESTED, "routed", "value.amount > `100`")
    # Waiting for approval: the new destination is created only when approved.
    assert (sub.destination, sub.destination_name) == (None, "payments.vitals-copy")
    page = client.get(response["Location"]).content.decode()
    assert "Waiting for approval" in page and "value.amount &gt; `100`" in page
    assert "payments.vitals-copy" in page and 'data-testid="destination-on-approval"' in page


def test_an_invalid_filter_is_shown_next_to_the_field_with_its_column(client_for, alice, payments, vitals, reader):
    bad = "value.amount >"
    with pytest.raises(FilterError) as error:
        compile_filter(bad)
    assert "column" in error.value.message

    response = _subscribe(client_for(alice), vitals, subscriber=payments.pk, service_account=reader.pk, filter=bad)

    assert response.status_code == 400
    html = response.content.decode()
    errors = html.split('id="err-filter"', 1)[1].split("</ul>", 1)[0]
    assert escape(error.value.message) in errors
    assert not Subscription.objects.exists()


def test_missing_account_and_reason_use_the_service_texts(client_for, alice, payments, vitals, reader):
    response = _subscribe(client_for(alice), vitals, subscriber=payments.pk, mode="direct", reason="",
                          destination_name="")

    html = response.content.decode()
    assert response.status_code == 400
    assert "Choose the service account that will read the events." in html.split('id="err-service_account"')[1]
    assert "Say why your team needs these events" in html.split('id="err-reason"')[1]


def test_carol_approves_from_her_dashboard(client_for, carol, request_by_alice):
    client = client_for(carol)
    dashboard = client.get(reverse("onboarding:home")).content.decode()
    assert "Waiting for your approval" in dashboard
    assert reverse("onboarding:subscription_approve", args=[request_by_alice.pk]) in dashboard

    response = client.post(reverse("onboarding:subscription_approve", args=[request_by_alice.pk]),
                           {"next": reverse("onboarding:home")}, follow=True)

    request_by_alice.refresh_from_db()
    assert (request_by_alice.decision, request_by_alice.decided_by) == (Decision.APPROVED, carol)
    assert response.redirect_chain[-1][0] == reverse("onboarding:home")
    assert "Approved payments" in response.content.decode()
    event = AuditEvent.objects.get(action="subscription.approve")
    assert event.via == AuditEvent.Via.BROWSER


def test_carol_rejects_with_a_comment_on_the_subscription_page(client_for, carol, request_by_alice):
    client = client_for(carol)
    url = reverse("onboarding:subscription_detail", args=[request_by_alice.pk])
    assert reverse("onboarding:subscription_reject", args=[request_by_alice.pk]) in client.get(url).content.decode()

    client.post(reverse("onboarding:subscription_reject", args=[request_by_alice.pk]), {"comment": "Use the API"})

    page = client.get(url).content.decode()
    assert "Rejected" in page and "Use the API" in page and "by carol" in page


def test_the_requester_cannot_approve_and_is_told_why(client_for, operator, payments, vitals, reader):
    sub = subscription_request(actor=operator, subscriber=payments, source=vitals, service_account=reader,
                               mode="direct", reason="For the audit", via="browser")
    client = client_for(operator)
    assert reverse("onboarding:subscription_approve", args=[sub.pk]) not in client.get(
        reverse("onboarding:subscription_detail", args=[sub.pk])).content.decode()

    response = client.post(reverse("onboarding:subscription_approve", args=[sub.pk]), follow=True)

    assert response.status_code == 200
    assert "You requested this subscription: someone else must decide on it." in response.content.decode()
    sub.refresh_from_db()
    assert sub.decision == Decision.REQUESTED


def test_a_subscriber_cannot_approve_for_the_topic_team(client_for, alice, request_by_alice):
    response = client_for(alice).post(reverse("onboarding:subscription_approve", args=[request_by_alice.pk]),
                                      follow=True)
    assert "Only owners of the topic&#x27;s team" in response.content.decode()
    request_by_alice.refresh_from_db()
    assert request_by_alice.decision == Decision.REQUESTED


def test_either_side_sees_the_page_and_an_outsider_gets_404(client_for, alice, carol, request_by_alice):
    url = reverse("onboarding:subscription_detail", args=[request_by_alice.pk])
    assert client_for(alice).get(url).status_code == 200
    assert client_for(carol).get(url).status_code == 200
    get_user_model().objects.create_user("zed", "zed@example.org", PASSWORD)
    outsider = client_for(get_user_model().objects.get(username="zed"))
    assert outsider.get(url).status_code == 404
    assert outsider.post(reverse("onboarding:subscription_revoke", args=[request_by_alice.pk])).status_code == 404


def test_the_subscriber_revokes_its_request(client_for, alice, request_by_alice):
    client_for(alice).post(reverse("onboarding:subscription_revoke", args=[request_by_alice.pk]), {"comment": "no"})
    request_by_alice.refresh_from_db()
    assert request_by_alice.decision == Decision.REVOKED


def test_counters_show_no_traffic_then_the_numbers(client_for, alice, request_by_alice):
    url = reverse("onboarding:subscription_detail", args=[request_by_alice.pk])
    assert "No traffic yet." in client_for(alice).get(url).content.decode()
    Subscription.objects.filter(pk=request_by_alice.pk).update(decision=Decision.APPROVED,
                                                               mode=Subscription.Mode.ROUTED)
    # What routers record after each committed batch (Redis, shared by every router process).
    traffic.reset(request_by_alice.pk)
    traffic.record_counts({str(request_by_alice.pk): Counter(routed=12, filtered_out=3, dead_lettered=1)})
    html = client_for(alice).get(url).content.decode()
    assert "Filtered out" in html and ">12<" in html and "No traffic yet." not in html


def test_a_topic_team_sees_its_subscribers(client_for, carol, vera, request_by_alice):
    Subscription.objects.filter(pk=request_by_alice.pk).update(decision=Decision.APPROVED,
                                                               mode=Subscription.Mode.ROUTED)
    html = client_for(carol).get(reverse("onboarding:topic_detail", args=[request_by_alice.source.pk])
                                 + "?tab=access").content
    assert b'data-testid="subscribers"' in html and b"payments.reader" in html


def test_creating_a_service_account_shows_the_password_once(client_for, alice, cluster, payments):
    client = client_for(alice)
    url = reverse("onboarding:service_accounts", args=[payments.slug])

    response = client.post(url, {"cluster": cluster.pk, "name": "billing", "description": "Billing app"})

    assert response.status_code == 200
    sa = ServiceAccount.objects.get(username="payments.billing")
    password = decrypt_pending_secret(sa)
    html = response.content.decode()
    assert password and password in html
    assert "Copy the password now: it is not stored." in html
    # The client SASL listener, never the admin connection's address.
    assert f"bootstrap.servers={cluster.client_bootstrap_servers}" in html and "sasl.mechanism=SCRAM-SHA-512" in html
    assert cluster.client_bootstrap_servers and cluster.bootstrap_servers not in html
    assert "no-store" in response["Cache-Control"]
    listing = client.get(url).content.decode()
    assert "payments.billing" in listing and password not in listing


def test_a_duplicate_name_is_refused_with_the_service_text(client_for, alice, cluster, payments, reader):
    response = client_for(alice).post(reverse("onboarding:service_accounts", args=[payments.slug]),
                                      {"cluster": cluster.pk, "name": "reader"})
    assert response.status_code == 400
    assert "already has a service account with this name" in response.content.decode()


def test_rotate_shows_a_new_password_and_delete_asks_first(client_for, alice, reader):
    client = client_for(alice)
    old = decrypt_pending_secret(reader)
    rotate = reverse("onboarding:service_account_rotate", args=[reader.pk])
    assert client.get(rotate).status_code == 200

    response = client.post(rotate)

    reader.refresh_from_db()
    new = decrypt_pending_secret(reader)
    assert new != old and new in response.content.decode()
    delete = reverse("onboarding:service_account_delete", args=[reader.pk])
    assert "Delete this account" in client.get(delete).content.decode()
    client.post(delete)
    reader.refresh_from_db()
    assert reader.wants_deletion


def test_a_viewer_sees_accounts_but_cannot_create(client_for, vera, payments, reader, cluster):
    client = client_for(vera)
    url = reverse("onboarding:service_accounts", args=[payments.slug])
    html = client.get(url).content.decode()
    assert "payments.reader" in html and "New service account" not in html
    assert client.post(url, {"cluster": cluster.pk, "name": "x"}).status_code == 403


@pytest.mark.parametrize(("expression", "event", "expected"), [
    ("value.amount > `100`", '{"amount": 150}', "Matched"),
    ("value.amount > `100`", '{"amount": 50}', "Not matched"),
    ("value.amount >", '{"amount": 50}', "column"),
    ("abs(value.name) > `1`", '{"name": "x"}', "would go to the dead-letter topic"),
    ("value.amount > `1`", '{"amount": 5', "not valid JSON at line 1"),
])
def test_the_filter_tester_answers_with_a_fragment(client_for, alice, expression, event, expected):
    response = client_for(alice).post(reverse("onboarding:filter_test"), {"filter": expression, "event": event},
                                      **htmx_to("filter-test-result"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="filter-test-result"' in html
    assert expected in html


def test_the_filter_tester_reads_headers(client_for, alice):
    client = client_for(alice)
    url = reverse("onboarding:filter_test")
    matched = client.post(url, {"filter": "headers.region == 'eu'", "event": "{}", "headers": '{"region": "eu"}'})
    broken = client.post(url, {"filter": "headers.region == 'eu'", "event": "{}", "headers": "[1]"})
    assert "Matched" in matched.content.decode()
    assert "must be a JSON object" in broken.content.decode()
