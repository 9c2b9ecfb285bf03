"""The query page of a topic kept in the event store: form rows become the API's query, the same error texts
beside their rows, masked results with a next-page link, the link from the topic page, and a store that does not
answer."""

import pytest

from onboarding.models import AuditEvent
from onboarding.services.topics import topic_create
from tests.integration.event_store_query.conftest import document
from tests.integration.views.htmx import htmx_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic(alice, cluster, payments, topic_name):
    return topic_create(actor=alice, cluster=cluster, team=payments, name=topic_name("page"), partitions=2,
                        replication_factor=1)


def n(value: int) -> str:
    """How a result's value field n shows in the page (escaped JSON)."""
    return f"&quot;n&quot;: {value}"


def url(topic):
    return f"/topics/{topic.pk}/event-store/"


def test_the_topic_page_links_to_the_query_page_of_a_kept_topic(client_for, alice, topic, keep):
    assert "Query the event store" not in client_for(alice).get(f"/topics/{topic.pk}/?tab=events").content.decode()
    assert client_for(alice).get(url(topic)).status_code == 404
    keep(topic, [])

    page = client_for(alice).get(f"/topics/{topic.pk}/?tab=events").content.decode()
    form = client_for(alice).get(url(topic))

    assert f'href="{url(topic)}"' in page
    assert form.status_code == 200 and 'data-testid="filter-row"' in form.content.decode()


def test_rows_run_as_a_query_and_page_with_a_next_link(client_for, alice, topic, keep):
    keep(topic, [document(topic.name, 0, i, minutes=i, ward="AB"[i % 2], n=i) for i in range(7)],
         indexed=["ward"])
    client = client_for(alice)

    first = client.post(url(topic), {"field_0": "value.ward", "op_0": "$eq", "value_0": "A", "field_1": "",
                                     "op_1": "$eq", "value_1": "", "sort": "timestamp", "limit": "2"},
                        **htmx_to("event-store-query")).content.decode()
    assert first.count('data-testid="query-value"') == 2 and n(2) in first
    cursor = first.split('name="cursor" value="')[1].split('"')[0]
    second = client.post(url(topic), {"field_0": "value.ward", "op_0": "$eq", "value_0": "A", "sort": "timestamp",
                                      "limit": "2", "cursor": cursor}).content.decode()
    assert n(4) in second and n(6) in second and n(2) not in second
    assert 'data-testid="next-page"' not in second
    assert AuditEvent.objects.filter(action="event_store.query", via=AuditEvent.Via.BROWSER).count() == 2


def test_errors_show_beside_their_row_with_the_apis_words(client_for, alice, topic, keep):
    keep(topic, [])

    answer = client_for(alice).post(url(topic), {"field_0": "value.name", "op_0": "$regex", "value_0": "smith",
                                                 "field_1": "value.$where", "op_1": "$eq", "value_1": "1",
                                                 "limit": "900"})

    assert answer.status_code == 400
    text = answer.content.decode()
    assert "Only anchored regular expressions are accepted" in text
    assert "Field names may not start with $." in text
    assert "limit: Ask for 1 to 500 events." in text


def test_a_store_that_does_not_answer_says_so_and_to_try_again(client_for, alice, topic, keep, settings,
                                                                silent_store):
    keep(topic, [])
    settings.EVENT_STORE_URI = silent_store
    settings.EVENT_STORE_QUERY_CONNECT_MS = 300

    answer = client_for(alice).post(url(topic), {"field_0": "", "op_0": "$eq", "value_0": "", "limit": "5"})

    assert answer.status_code == 503
    assert "The event store is not answering; try the query again in a moment." in answer.content.decode()
