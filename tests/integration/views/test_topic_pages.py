"""The list, the detail page with its live status, drift decisions and the dashboard."""

import re

import pytest
from django.urls import reverse

from onboarding.models import AuditEvent, ResourceStatus, Topic
from onboarding.services.topics import topic_create
from tests.integration.views.htmx import htmx_to

pytestmark = pytest.mark.django_db


def listed(response) -> list[str]:
    return re.findall(r'<a class="mono strong" href="/topics/\d+/">([^<]+)</a>', response.content.decode())


@pytest.fixture
def many(alice, carol, cluster, payments, clinical):
    made = [topic_create(actor=alice, cluster=cluster, team=payments, name=f"payments.t{i:02d}",
                         description="Card payments" if i % 2 else "Settlements", tags=["cards"] if i < 3 else [])
            for i in range(30)]
    made.append(topic_create(actor=carol, cluster=cluster, team=clinical, name="clinical.labs", tags=["lab"]))
    made.append(topic_create(actor=carol, cluster=cluster, team=clinical, name="clinical.secret",
                             visibility=Topic.Visibility.PRIVATE))
    Topic.objects.filter(name="payments.t05").update(status=ResourceStatus.FAILED)
    return made


def test_the_list_pages_by_25(client_for, alice, many):
    client = client_for(alice)

    first, last = client.get(reverse("onboarding:topic_list")), client.get(reverse("onboarding:topic_list") + "?page=2")

    assert len(listed(first)) == 25
    assert listed(last) == [f"payments.t{i}" for i in range(24, 30)]  # clinical.labs sorts first
    assert "clinical.labs" in listed(first) and "clinical.secret" not in listed(first) + listed(last)


@pytest.mark.parametrize("query, expected", [
    ("team=clinical", ["clinical.labs"]),
    ("status=failed", ["payments.t05"]),
    ("tag=cards", ["payments.t00", "payments.t01", "payments.t02"]),
    ("q=settle&team=payments&tag=cards", ["payments.t00", "payments.t02"]),
    ("q=LABS", ["clinical.labs"]),
    ("team=nosuchteam&status=bogus", None),  # unknown values are ignored, never a 500
])
def test_the_list_filters(client_for, alice, many, query, expected):
    response = client_for(alice).get(reverse("onboarding:topic_list") + "?" + query)

    assert response.status_code == 200
    if expected is not None:
        assert listed(response) == expected


def test_the_search_box_swaps_only_the_table(client_for, alice, many):
    response = client_for(alice).get(reverse("onboarding:topic_list") + "?q=t1", **htmx_to("topic-table"))

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="topic-table"')
    assert "<nav class=\"mainnav\"" not in html
    assert len(listed(response)) == 10


def test_the_status_fragment_polls_while_the_topic_settles(client_for, alice, public_topic):
    response = client_for(alice).get(reverse("onboarding:topic_detail", args=[public_topic.pk]),
                                     **htmx_to("topic-status"))

    html = response.content.decode()
    assert 'hx-trigger="every 2s"' in html and ">Pending<" in html
    assert "HX-Trigger" not in response


def test_the_status_fragment_stops_polling_once_settled(client_for, alice, public_topic):
    Topic.objects.filter(pk=public_topic.pk).update(status=ResourceStatus.READY, observed_generation=1)

    response = client_for(alice).get(reverse("onboarding:topic_detail", args=[public_topic.pk]),
                                     **htmx_to("topic-status"))

    assert "hx-trigger" not in response.content.decode()
    assert ">Ready<" in response.content.decode()
    assert response["HX-Trigger"] == "topic-settled"


def test_the_detail_page_shows_facts_and_attempts(client_for, alice, public_topic):
    public_topic.attempts.create(generation=1, actions=["create topic with 3 partitions"], outcome="failed",
                                 error="Broker not available", started_at=public_topic.created_at, duration_ms=42,
                                 run_id="r1")

    url = reverse("onboarding:topic_detail", args=[public_topic.pk])
    overview = client_for(alice).get(url).content.decode()
    history = client_for(alice).get(url + "?tab=history").content.decode()

    for text in ("local", "payments@example.org", "retention.ms", "86400000", "billing", "1 desired · 0 applied"):
        assert text in overview, text
    for text in ("create topic with 3 partitions", "Broker not available", "42 ms"):
        assert text in history, text


def test_revert_sends_a_drifted_topic_back_to_the_reconciler(client_for, alice, drifted_topic):
    # Only the retention changed: that can be put back (grown partitions cannot, see below).
    Topic.objects.filter(pk=drifted_topic.pk).update(drift={"configs": drifted_topic.drift["configs"]})
    response = client_for(alice).post(reverse("onboarding:topic_revert", args=[drifted_topic.pk]))

    drifted_topic.refresh_from_db()
    assert response.status_code == 302
    assert drifted_topic.status == ResourceStatus.PENDING
    assert AuditEvent.objects.get(action="topic.drift.revert").via == AuditEvent.Via.BROWSER


def test_revert_of_grown_partitions_is_refused_with_the_reason(client_for, alice, drifted_topic):
    client = client_for(alice)
    response = client.post(reverse("onboarding:topic_revert", args=[drifted_topic.pk]), follow=True)

    drifted_topic.refresh_from_db()
    assert drifted_topic.status == ResourceStatus.DRIFTED
    assert "Kafka cannot shrink partitions" in response.content.decode()
    assert not AuditEvent.objects.filter(action="topic.drift.revert").exists()


def test_adopt_takes_the_clusters_values(client_for, operator, drifted_topic):
    client_for(operator).post(reverse("onboarding:topic_adopt", args=[drifted_topic.pk]))

    drifted_topic.refresh_from_db()
    assert (drifted_topic.status, drifted_topic.partitions) == (ResourceStatus.READY, 6)
    assert drifted_topic.configs == {"retention.ms": "3600000"}


def test_a_second_decision_is_explained_not_a_500(client_for, alice, drifted_topic):
    client = client_for(alice)
    client.post(reverse("onboarding:topic_adopt", args=[drifted_topic.pk]))

    response = client.post(reverse("onboarding:topic_adopt", args=[drifted_topic.pk]), follow=True)

    assert "The topic has no drift to adopt." in response.content.decode()


def test_the_dashboard_counts_the_teams_topics_by_status(client_for, alice, many):
    html = client_for(alice).get(reverse("onboarding:home")).content.decode()

    assert "<strong>30</strong> topics" in html
    assert "29 pending" in html and "1 failed" in html
    assert "payments@example.org" in html and "Owner" in html
    assert "clinical.labs" not in html


@pytest.mark.parametrize("query", ["q=card payments", "q=payments card&tag=cards", "q=t0 settlements&team=payments",
                                   "status=failed", "visibility=public&team=clinical", "team=clinical&q=LABS"])
def test_the_page_and_the_api_filter_a_list_alike(client_for, api_as, alice, many, query):
    """One filterset serves both: the words of ``q`` must all match, in the page as in the API."""
    page = listed(client_for(alice).get(reverse("onboarding:topic_list") + "?" + query + "&page_size=100"))
    api = api_as(alice).get("/api/v1/topics/?" + query + "&page_size=100").json()["results"]

    assert page == sorted(topic["name"] for topic in api)
    assert page  # each query selects something, so the comparison says something


def test_the_teams_writers_see_how_to_publish_through_the_gateway(client_for, alice, bob, public_topic, settings):
    settings.GATEWAY_PUBLIC_URL = "https://gateway.example.org"
    for writer in (alice, bob):
        page = client_for(writer).get(reverse("onboarding:topic_detail", args=[public_topic.pk])).content.decode()

        assert 'data-testid="gateway"' in page
        assert "https://gateway.example.org/v3/clusters/$CLUSTER/topics/payments.orders/records" in page
        assert "Bearer $TEAM_TOKEN" in page


def test_viewers_and_other_teams_get_no_publishing_commands(client_for, carol, vera, public_topic):
    for reader in (carol, vera):
        page = client_for(reader).get(reverse("onboarding:topic_detail", args=[public_topic.pk])).content.decode()

        assert 'data-testid="gateway"' not in page
