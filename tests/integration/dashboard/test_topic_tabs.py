"""The topic page's tabs (one URL each, the panel alone for htmx) and its actions following the topic's state."""

import pytest
from django.urls import reverse

from onboarding.models import AuditEvent, ChangeRequest, ResourceStatus, Subscription, Topic
from onboarding.services.service_accounts import service_account_create
from onboarding.services.subscriptions import subscription_request
from onboarding.services.topics import topic_update
from onboarding.views.topic_tabs import TABS
from tests.integration.views.conftest import drifted_topic, public_topic  # noqa: F401 - fixtures
from tests.integration.views.htmx import htmx_to

pytestmark = pytest.mark.django_db


def _url(topic, tab=None) -> str:
    url = reverse("onboarding:topic_detail", args=[topic.pk])
    return f"{url}?tab={tab}" if tab else url


def _actions(html: str) -> str:
    return html.split('data-testid="topic-actions"', 1)[1].split("</div>", 1)[0]


@pytest.mark.parametrize("tab", [name for name, _ in TABS])
def test_every_tab_is_a_page_of_its_own_and_an_htmx_panel(client_for, alice, public_topic, tab):  # noqa: F811
    page = client_for(alice).get(_url(public_topic, tab)).content.decode()
    panel = client_for(alice).get(_url(public_topic, tab), **htmx_to("topic-tab")).content.decode()

    assert f'class="tab active" aria-selected="true"\n       hx-get="{_url(public_topic, tab)}"' in page
    assert f'data-tab="{tab}"' in page and "<html" in page
    assert panel.lstrip().startswith('<div id="topic-tab">') and "<html" not in panel
    assert f'<div class="tab-panel" role="tabpanel" aria-labelledby="tab-{tab}" data-tab="{tab}">' in panel


def test_each_tab_shows_its_own_part_of_the_topic(client_for, alice, public_topic):  # noqa: F811
    client = client_for(alice)
    expected = {"overview": 'data-testid="facts"', "schemas": 'id="topic-fields"', "access": 'data-testid="producers"',
                "traffic": 'data-testid="traffic-plot-empty"', "events": 'data-testid="peek"',
                "history": 'data-testid="attempts"' if public_topic.attempts.exists() else "No attempt yet"}
    for tab, marker in expected.items():
        html = client.get(_url(public_topic, tab)).content.decode()
        assert marker in html, tab
        others = [m for t, m in expected.items() if t != tab]
        assert not any(m in html for m in others), tab


def test_an_unknown_tab_is_the_overview(client_for, alice, public_topic):  # noqa: F811
    response = client_for(alice).get(_url(public_topic, "<script>"))

    assert response.status_code == 200 and 'data-tab="overview"' in response.content.decode()


def test_a_failed_topic_offers_retry_and_no_promotion(client_for, alice, prod_cluster, public_topic):  # noqa: F811
    Topic.objects.filter(pk=public_topic.pk).update(status=ResourceStatus.READY, observed_generation=1)
    assert 'data-testid="promote"' in _actions(client_for(alice).get(_url(public_topic)).content.decode())

    Topic.objects.filter(pk=public_topic.pk).update(status=ResourceStatus.FAILED, last_error="Broker not available",
                                                    failures=3, next_attempt_at="2099-01-01T00:00:00Z")
    html = client_for(alice).get(_url(public_topic)).content.decode()

    assert 'data-testid="promote"' not in _actions(html)
    assert 'data-testid="retry"' in _actions(html) and 'data-testid="failed-banner"' in html
    client_for(alice).post(reverse("onboarding:topic_retry", args=[public_topic.pk]))
    public_topic.refresh_from_db()
    assert public_topic.next_attempt_at is None
    assert AuditEvent.objects.filter(action="topic.retry", resource_id=str(public_topic.pk)).exists()


def test_retry_is_refused_for_a_topic_that_did_not_fail_and_for_outsiders(client_for, alice, carol,
                                                                         public_topic):  # noqa: F811
    refused = client_for(alice).post(reverse("onboarding:topic_retry", args=[public_topic.pk]), follow=True)
    assert "Only a failed topic" in refused.content.decode()
    Topic.objects.filter(pk=public_topic.pk).update(status=ResourceStatus.FAILED)
    assert client_for(carol).post(reverse("onboarding:topic_retry", args=[public_topic.pk])).status_code == 403
    assert 'data-testid="retry"' not in client_for(carol).get(_url(public_topic)).content.decode()


def test_a_drifted_topic_says_so_above_every_tab_and_links_to_the_decision(client_for, alice,
                                                                          drifted_topic):  # noqa: F811
    html = client_for(alice).get(_url(drifted_topic, "traffic")).content.decode()

    banner = html.split('data-testid="drift-banner"', 1)[1].split("</div>", 1)[0]
    assert f'{_url(drifted_topic, "overview")}#drift-title' in banner
    assert 'data-testid="drift"' in client_for(alice).get(_url(drifted_topic)).content.decode()


def test_an_open_change_request_is_a_banner_its_requester_can_withdraw(client_for, alice, otto, gated, cluster,
                                                                      public_topic):  # noqa: F811
    gated(cluster, "topic.update")
    cr = topic_update(actor=alice, topic=public_topic, partitions=6, via="browser")
    assert isinstance(cr, ChangeRequest)

    for viewer, can_withdraw in ((alice, True), (otto, False)):
        html = client_for(viewer).get(_url(public_topic, "schemas")).content.decode()
        banner = html.split('data-testid="open-change"', 1)[1].split("</div>", 1)[0]
        assert reverse("onboarding:change_request_detail", args=[cr.pk]) in banner
        assert ('data-testid="withdraw-change"' in banner) is can_withdraw

    assert client_for(otto).post(reverse("onboarding:change_request_withdraw", args=[cr.pk])).status_code == 302
    cr.refresh_from_db()
    assert cr.status == ChangeRequest.Status.PENDING  # only the requester withdraws
    client_for(alice).post(reverse("onboarding:change_request_withdraw", args=[cr.pk]))
    cr.refresh_from_db()
    assert cr.status == ChangeRequest.Status.WITHDRAWN and cr.decided_by == alice
    assert AuditEvent.objects.filter(action="change_request.withdraw", resource_id=str(cr.pk)).exists()
    assert 'data-testid="open-change"' not in client_for(alice).get(_url(public_topic)).content.decode()


def test_a_subscriber_sees_subscribed_instead_of_subscribe(client_for, carol, cluster, clinical,
                                                           public_topic):  # noqa: F811
    assert 'data-testid="subscribe"' in _actions(client_for(carol).get(_url(public_topic)).content.decode())
    reader = service_account_create(actor=carol, cluster=cluster, team=clinical, name="reader", via="browser")[0]
    sub = subscription_request(actor=carol, subscriber=clinical, source=public_topic, service_account=reader,
                               mode=Subscription.Mode.DIRECT, reason="Vitals need orders", via="browser")
    sub.refresh_from_db()

    actions = _actions(client_for(carol).get(_url(public_topic)).content.decode())

    assert 'data-testid="subscribe"' not in actions
    expected = "Subscribed" if sub.decision == Subscription.Decision.APPROVED else "Subscription requested"
    assert f">{expected}</a>" in actions
    assert reverse("onboarding:subscription_detail", args=[sub.pk]) in actions
