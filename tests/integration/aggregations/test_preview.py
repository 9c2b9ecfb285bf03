"""Preview over the API: the definition checked by the services' rules with field-level errors, pasted events
checked per event, an outsider refused under ``source``, the source's recent events read (and audited as a peek),
and an engine that cannot be reached answered with a clear 503, never a 500."""

import socket
import uuid

import pytest

from onboarding.models import AuditEvent
from onboarding.reconcile import topics as topic_reconciler
from onboarding.services.aggregation_preview import engine_errors, parse_events
from tests.fixtures.waiting import wait_for
from tests.integration.aggregations.helpers import with_value_schema

pytestmark = pytest.mark.django_db
PREVIEW = "/api/v1/aggregations/preview"


@pytest.fixture
def closed_engine(settings):
    """AGGREGATOR_URL at a port nothing listens on (taken from the OS, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.AGGREGATOR_URL = f"http://127.0.0.1:{port}"
    return settings.AGGREGATOR_URL


def body(source, **overrides) -> dict:
    values = {"team": "payments", "source": source.pk, "window_type": "tumbling", "size": "1h",
              "group_by": "value.provider_id",
              "measures": [{"name": "claims", "op": "count"},
                           {"name": "amount_total", "op": "sum", "field": "value.amount"}]}
    values.update(overrides)
    return values


def test_mistakes_come_back_under_their_fields(api_as, alice, payments_topic, closed_engine):
    source = with_value_schema(payments_topic())
    api = api_as(alice)

    answer = api.post(PREVIEW, body(source, size="0", measures=[{"name": "x", "op": "median"}]), format="json")

    assert answer.status_code == 400, answer.content
    assert set(answer.json()["errors"]) >= {"size", "measures"}
    pasted = api.post(PREVIEW, body(source, events=[{"value": {"amount": 1}, "timestamp_ms": "soon"}, {"value": 2,
                                                                                                     "when": 1}]),
                      format="json")
    assert pasted.status_code == 400
    assert pasted.json()["errors"]["events"] == ["Event 1: timestamp_ms must be epoch milliseconds (a whole number).",
                                       "Event 2: unknown keys when."]


def test_an_outsider_cannot_preview_over_a_private_topic(api_as, alice, clinical_topic, closed_engine):
    private = with_value_schema(clinical_topic(visibility="private"))

    answer = api_as(alice).post(PREVIEW, body(private), format="json")

    assert answer.status_code == 400
    assert answer.json()["errors"]["source"] == [
        "Choose a topic your team owns or holds an approved subscription to."]


def test_pasted_events_and_an_unreachable_engine_give_a_clear_503(api_as, alice, payments_topic, closed_engine):
    source = with_value_schema(payments_topic())

    answer = api_as(alice).post(PREVIEW, body(source, events=[{"provider_id": "p1", "amount": 120.5}]),
                                format="json")

    assert answer.status_code == 503
    assert answer.json()["detail"].startswith("The aggregation engine cannot be reached")


@pytest.mark.django_db(transaction=True)
def test_recent_events_are_read_as_peek_reads_them_and_audited(api_as, alice, payments_topic, cluster,
                                                               kafka_admin, closed_engine):
    source = with_value_schema(payments_topic(name=f"payments.preview-{uuid.uuid4().hex[:8]}"))
    topic_reconciler.reconcile_cluster(cluster.pk)
    wait_for(lambda: source.name in kafka_admin.list_topics(timeout=10).topics, timeout=30, message="the source")
    try:
        answer = api_as(alice).post(PREVIEW, body(source, recent=5), format="json")
        assert answer.status_code == 503  # the events were read; the engine is what is missing
        peek = AuditEvent.objects.get(action="topic.peek", resource_id=str(source.pk))
        assert peek.note == "aggregation preview" and peek.after == {"limit": 5, "events": 0}
    finally:
        kafka_admin.delete_topics([source.name], operation_timeout=30)[source.name].result(30)


def test_bare_values_become_events_and_engine_paths_map_to_form_fields():
    events, problems = parse_events('[{"amount": 1}, {"value": {"amount": 2}, "key": "k", "timestamp_ms": 5}]')
    assert problems == []
    assert events[0]["value"] == {"amount": 1} and events[0]["key"] is None and events[0]["timestamp_ms"] > 0
    assert events[1] == {"key": "k", "value": {"amount": 2}, "headers": {}, "timestamp_ms": 5}
    assert parse_events("{")[1][0].startswith("Paste a JSON list of events")
    assert engine_errors({"definition.window.size_ms": ["too small"], "definition.measures[1].field": ["bad"],
                          "definition.nonsense": ["?"]}) == {
        "size": ["too small"], "measures": ["bad"], "__all__": ["? (definition.nonsense)"]}
