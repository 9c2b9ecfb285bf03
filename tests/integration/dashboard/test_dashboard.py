"""The dashboard with the Django test client: what waits for the viewer, what is wrong, the teams' activity and
a new team's checklist, each from rows the services (or the samplers) write."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from onboarding.models import (
    LagSample,
    OffsetReset,
    ResourceStatus,
    ServiceAccount,
    Subscription,
    Topic,
    TopicTrafficSample,
)
from onboarding.services.service_accounts import service_account_create
from onboarding.services.subscriptions import subscription_request
from onboarding.services.topics import topic_create
from tests.integration.views.conftest import drifted_topic, public_topic  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def _section(html: str, testid: str) -> str:
    """The HTML of the element with this data-testid up to the end of its section (enough to look inside)."""
    assert f'data-testid="{testid}"' in html, f"no {testid} on the page"
    return html.split(f'data-testid="{testid}"', 1)[1].split("</section>", 1)[0]


@pytest.fixture
def vitals(carol, cluster, clinical):
    topic = topic_create(actor=carol, cluster=cluster, team=clinical, name="clinical.vitals", partitions=1,
                         replication_factor=1, visibility=Topic.Visibility.PUBLIC)
    Topic.objects.filter(pk=topic.pk).update(subscriptions_need_approval=True)
    topic.refresh_from_db()
    return topic


@pytest.fixture
def request_by_alice(alice, cluster, payments, vitals):
    """A subscription of payments to vitals, waiting for clinical's owners."""
    reader = service_account_create(actor=alice, cluster=cluster, team=payments, name="reader", via="browser")[0]
    sub = subscription_request(actor=alice, subscriber=payments, source=vitals, service_account=reader,
                               mode=Subscription.Mode.DIRECT, reason="Billing needs vitals", via="browser")
    assert sub.decision == Subscription.Decision.REQUESTED
    return sub


def test_a_subscription_request_waits_on_the_owners_dashboard_and_on_the_requesters(
        client_for, alice, carol, request_by_alice):
    owners = client_for(carol).get(reverse("onboarding:home")).content.decode()
    waiting = _section(owners, "waiting")
    assert f'data-testid="waiting-{request_by_alice.pk}"' in waiting
    assert reverse("onboarding:subscription_approve", args=[request_by_alice.pk]) in waiting

    requesters = client_for(alice).get(reverse("onboarding:home")).content.decode()
    assert f'data-testid="mine-subscription-{request_by_alice.pk}"' in _section(requesters, "mine")
    assert "Nothing waits for your decision." in _section(requesters, "waiting")


def test_an_offset_reset_of_my_topic_waits_for_me_as_its_owner(client_for, alice, carol, cluster, clinical,
                                                                payments, public_topic):  # noqa: F811
    reset = OffsetReset.objects.create(cluster=cluster, team=clinical, group_id="clinical.billing",
                                       topic=public_topic, strategy=OffsetReset.Strategy.EARLIEST,
                                       reason="Replay", requested_by=carol)

    html = client_for(alice).get(reverse("onboarding:home")).content.decode()

    row = _section(html, "waiting").split(f'data-testid="waiting-reset-{reset.pk}"', 1)[1]
    assert "clinical.billing" in row and reverse("onboarding:offset_reset_decide", args=[reset.pk, "approve"]) in row
    assert f'data-testid="mine-reset-{reset.pk}"' in client_for(carol).get(reverse("onboarding:home")).content.decode()


def test_a_drifted_topic_is_under_what_is_wrong_with_a_link_to_it(client_for, alice, drifted_topic):  # noqa: F811
    wrong = _section(client_for(alice).get(reverse("onboarding:home")).content.decode(), "wrong")

    assert "payments.orders" in wrong and "Drifted" in wrong
    assert reverse("onboarding:topic_detail", args=[drifted_topic.pk]) in wrong
    assert "partitions 3 desired, 6 on the cluster" in wrong


def test_dead_letters_of_the_hour_and_lagging_groups_come_from_the_samples(client_for, alice, carol, cluster):
    now = timezone.now()
    TopicTrafficSample.objects.bulk_create([
        TopicTrafficSample(cluster=cluster, topic="payments.orders-copy.dlq", sampled_at=now - timedelta(hours=2),
                           end_offset=1),
        TopicTrafficSample(cluster=cluster, topic="payments.orders-copy.dlq", sampled_at=now - timedelta(minutes=50),
                           end_offset=10),
        TopicTrafficSample(cluster=cluster, topic="payments.orders-copy.dlq", sampled_at=now, end_offset=17),
        TopicTrafficSample(cluster=cluster, topic="payments.orders", sampled_at=now - timedelta(minutes=5),
                           end_offset=5),
        TopicTrafficSample(cluster=cluster, topic="payments.orders", sampled_at=now, end_offset=500),
    ])
    LagSample.objects.bulk_create([
        LagSample(cluster=cluster, group_id="payments.billing", topic="payments.orders",
                  sampled_at=now - timedelta(seconds=30), lag=40),
        LagSample(cluster=cluster, group_id="payments.billing", topic="payments.orders", sampled_at=now, lag=450),
        LagSample(cluster=cluster, group_id="payments.quick", topic="payments.orders", sampled_at=now, lag=3),
    ])

    wrong = _section(client_for(alice).get(reverse("onboarding:home")).content.decode(), "wrong")

    dead = wrong.split('data-testid="dead-letters"', 1)[1].split("</table>", 1)[0]
    assert "payments.orders-copy.dlq" in dead and ">7<" in dead  # 17 - 10: only the last hour's growth
    assert "payments.orders<" not in dead  # a topic that is not a dead-letter topic
    lagging = wrong.split('data-testid="lagging"', 1)[1].split("</table>", 1)[0]
    assert "payments.billing" in lagging and ">450<" in lagging and "payments.quick" not in lagging
    assert 'data-testid="dead-letters"' not in client_for(carol).get(reverse("onboarding:home")).content.decode()


def test_a_new_team_ticks_its_checklist_step_by_step(client_for, alice, carol, cluster, clinical, vitals):
    client = client_for(carol)

    def steps():
        checklist = _section(client.get(reverse("onboarding:home")).content.decode(), "checklist-clinical")
        return [part.split('"', 1)[0] for part in checklist.split('data-done="')[1:]], checklist

    done, checklist = steps()
    assert done == ["no", "yes", "no", "no"]  # vitals is its first topic
    assert reverse("onboarding:service_accounts", args=["clinical"]) in checklist
    assert reverse("onboarding:schema_page", args=[vitals.pk, "value"]) in checklist
    assert reverse("onboarding:catalogue") in checklist

    service_account_create(actor=carol, cluster=cluster, team=clinical, name="app", via="browser")
    assert steps()[0] == ["yes", "yes", "no", "no"]


def test_the_activity_lists_the_teams_audit_records_newest_first(client_for, alice, carol, vitals,
                                                                 public_topic):  # noqa: F811
    activity = _section(client_for(alice).get(reverse("onboarding:home")).content.decode(), "activity")

    assert "topic.create" in activity and "payments.orders" in activity
    assert "clinical.vitals" not in activity  # another team's record


def test_failed_resources_of_every_kind_are_listed_with_their_pages(client_for, alice, request_by_alice):
    account = request_by_alice.service_account
    ServiceAccount.objects.filter(pk=account.pk).update(status=ResourceStatus.FAILED, last_error="SCRAM refused")
    Subscription.objects.filter(pk=request_by_alice.pk).update(status=ResourceStatus.DRIFTED)

    wrong = _section(client_for(alice).get(reverse("onboarding:home")).content.decode(), "wrong-resources")

    assert 'data-kind="service account"' in wrong and account.username in wrong and "SCRAM refused" in wrong
    assert reverse("onboarding:service_accounts", args=["payments"]) in wrong
    assert "payments ← clinical.vitals" in wrong
    assert reverse("onboarding:subscription_detail", args=[request_by_alice.pk]) in wrong
