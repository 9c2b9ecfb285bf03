"""The traffic sampler on the real broker: end offsets and log-directory sizes after producing become samples, the
topic page's traffic tab plots their rate and the topic's size, a dead-letter topic's growth reaches the dashboard,
and old samples are pruned."""

import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from confluent_kafka.admin import AdminClient, NewTopic
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone

from onboarding.models import TopicTrafficSample
from onboarding.selectors.topic_traffic import topic_traffic
from onboarding.services.topic_traffic import traffic_prune, traffic_sample
from tests.integration.groups.conftest import produce
from tests.integration.routing.test_portal_routing import cleanup_topics  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

EVENTS = int(os.environ.get("TRAFFIC_TEST_EVENTS", "120"))
# Recent, so the broker's retention never deletes the events while the test runs.
T0 = (int(time.time()) - 600) * 1000


def _end_offset(cluster, name: str, at) -> int:
    return TopicTrafficSample.objects.get(cluster=cluster, topic=name, sampled_at=at).end_offset


def _size(cluster, name: str, at) -> int | None:
    return TopicTrafficSample.objects.get(cluster=cluster, topic=name, sampled_at=at).size_bytes


def test_samples_after_producing_count_the_events_and_the_tab_plots_them(cluster, alice, orders, client_for):
    first, second = timezone.now() - timedelta(minutes=2), timezone.now() - timedelta(minutes=1)
    produce(orders.name, [{"n": n} for n in range(EVENTS)], timestamp_ms=T0)
    assert traffic_sample(cluster, now=first) >= 1
    produce(orders.name, [{"n": n} for n in range(EVENTS // 2)], timestamp_ms=T0)
    traffic_sample(cluster, now=second)

    assert _end_offset(cluster, orders.name, first) == EVENTS
    assert _end_offset(cluster, orders.name, second) == EVENTS + EVENTS // 2
    kept = topic_traffic(orders)
    assert [rate for _, rate in kept.rates] == [EVENTS // 2]  # per minute, one minute apart
    # Every event is at least its JSON value on the broker's disk; the second sample holds half as many again.
    grown = _size(cluster, orders.name, second) - _size(cluster, orders.name, first)
    assert _size(cluster, orders.name, first) >= EVENTS * len('{"n": 0}') and grown >= EVENTS // 2 * len('{"n": 0}')
    assert [size for _, size in kept.sizes] == [_size(cluster, orders.name, first), _size(cluster, orders.name, second)]

    tab = client_for(alice).get(reverse("onboarding:topic_detail", args=[orders.pk]) + "?tab=traffic").content.decode()
    assert 'data-testid="traffic-plot"' in tab and 'data-points="1"' in tab
    assert f"<strong>{EVENTS // 2}</strong> events in the last hour" in tab
    assert 'data-testid="size-plot"' in tab and 'data-points="2"' in tab
    assert f"about <strong>{filesizeformat(round(grown / (EVENTS // 2)))}</strong> per event" in tab

    TopicTrafficSample.objects.filter(topic=orders.name).update(sampled_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert traffic_prune() >= 2
    assert not TopicTrafficSample.objects.filter(topic=orders.name).exists()


def test_a_dead_letter_topics_growth_reaches_the_dashboard(cluster, alice, orders, cleanup_topics,  # noqa: F811
                                                          client_for):
    dlq = f"{orders.name}.dlq"  # a dead-letter topic as the routers name it, never registered in the portal
    admin = AdminClient({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS})
    admin.create_topics([NewTopic(dlq, 1, 1)])[dlq].result(30)
    cleanup_topics.append(dlq)
    traffic_sample(cluster, now=timezone.now() - timedelta(minutes=1))
    produce(dlq, [{"n": n} for n in range(7)], timestamp_ms=T0)
    traffic_sample(cluster)

    dashboard = client_for(alice).get(reverse("onboarding:home")).content.decode()

    dead = dashboard.split('data-testid="dead-letters"', 1)[1].split("</table>", 1)[0]
    assert dlq in dead and ">7<" in dead
