"""Querying a topic's events in the real event store through the API: the right documents by an indexed field and
a time range, refusals at their paths, who may query, masking, pages, time-outs, a store that does not answer
(503 with Retry-After, in bounded time) and the audit trail."""

import json

import pytest

from onboarding.models import ApiToken, AuditEvent, EventStoreBinding, ServiceAccount, Subscription, Topic
from onboarding.reconcile.schemas import reconcile_schemas
from onboarding.services.schemas import schema_version_submit
from onboarding.services.sensitivity import sensitive_field_set
from onboarding.services.subscriptions import subscription_request
from onboarding.services.topics import topic_create
from tests.integration.api.conftest import subjects  # noqa: F401  (fixture)
from tests.integration.event_store_query.conftest import document, ready_topic
from tests.integration.lineage.conftest import rita  # noqa: F401  (fixture: an outsider, owner of research)

pytestmark = pytest.mark.django_db

PATIENT = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "properties": {
    "ward": {"type": "string"}, "patient": {"type": "object", "properties": {
        "name": {"type": "string"}, "ssn": {"type": "string"}}}}}


def query(client, topic, body, **params):
    suffix = "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
    return client.post(f"/api/v1/event-store/{topic.name}/query{suffix}", data=json.dumps(body),
                       content_type="application/json")


def admissions(topic_name: str, count: int = 20) -> list[dict]:
    """Events a minute apart over two partitions, wards A, B and C in turn."""
    return [document(topic_name, i % 2, i // 2, minutes=i, key=f"k{i}", ward="ABC"[i % 3], n=i,
                     patient={"name": f"Patient {i}", "ssn": f"000-00-{i:04d}"}) for i in range(count)]


@pytest.fixture
def topic(alice, cluster, payments, topic_name):
    return topic_create(actor=alice, cluster=cluster, team=payments, name=topic_name("adm"), partitions=2,
                        replication_factor=1)


def test_an_indexed_field_and_a_time_range_select_the_right_documents(api_as, alice, topic, keep):
    keep(topic, admissions(topic.name), indexed=["ward"])

    answer = query(api_as(alice), topic, {"filter": {"value.ward": "B"}, "from": "2026-12-01T08:03:00Z",
                                          "to": "2026-12-01T08:16:00Z", "sort": "-timestamp"})

    assert answer.status_code == 200, answer.json()
    body = answer.json()
    # ward B: n = 1, 4, 7, 10, 13, 16, 19; minutes 3 <= n < 16, newest first
    assert [event["value"]["n"] for event in body["events"]] == [13, 10, 7, 4]
    assert body["events"][0] == {"id": f"{topic.name}#1#6", "partition": 1, "offset": 6,
                                 "timestamp": "2026-12-01T08:13:00Z", "key": "k13",
                                 "value": {"ward": "B", "n": 13, "patient": {"name": "Patient 13",
                                                                             "ssn": "000-00-0013"}}}
    assert body["next_cursor"] is None and body["count"] == 4
    assert body["sortable"] == ["timestamp", "value.ward"]
    by_id = query(api_as(alice, scope=ApiToken.Scope.READ), topic, {"filter": {"value.n": {"$in": [2, 3]}}},
                  )
    assert [event["value"]["n"] for event in by_id.json()["events"]] == [2, 3]


def test_where_and_other_operators_are_refused_at_their_path_and_nothing_runs(api_as, alice, topic, keep):
    keep(topic, admissions(topic.name, 3))

    answer = query(api_as(alice), topic, {"filter": {"value.ward": {"$where": "sleep(100)"},
                                                     "$or": [{"value.n": {"$regex": "1"}}]},
                                          "sort": "value.n", "limit": 501})

    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert errors["filter.value.ward.$where"] == [
        "$where is not allowed: it runs code or expressions in the event store."]
    assert "anchored" in errors["filter.$or[0].value.n.$regex"][0]
    assert errors["sort"] == ["Sort by the time or an indexed field: timestamp."]
    assert errors["limit"] == ["Ask for 1 to 500 events."]
    assert not AuditEvent.objects.filter(action="event_store.query").exists()


def test_outsiders_are_refused_and_subscribers_may_query(api_as, alice, carol, rita, cluster, payments,  # noqa: F811
                                                          clinical, topic, topic_name, keep):
    keep(topic, admissions(topic.name, 4))
    private = topic_create(actor=alice, cluster=cluster, team=payments, name=topic_name("private"), partitions=1,
                           replication_factor=1, visibility=Topic.Visibility.PRIVATE)
    keep(private, [])

    assert query(api_as(rita), topic, {}).status_code == 403
    assert query(api_as(rita), private, {}).status_code == 404
    reader = ServiceAccount.objects.create(cluster=cluster, team=clinical, name="r", username="clinical.r")
    subscription_request(actor=carol, subscriber=clinical, source=topic, service_account=reader,
                         mode=Subscription.Mode.DIRECT, reason="Reconciliation", via="api")
    subscribed = query(api_as(carol), topic, {"limit": 2})
    assert subscribed.status_code == 200 and subscribed.json()["count"] == 2
    assert list(AuditEvent.objects.filter(action="event_store.query").values_list("actor_name", flat=True)) == [
        "carol"]


def test_a_topic_not_kept_in_the_store_is_not_found(api_as, alice, topic):
    answer = query(api_as(alice), topic, {})
    assert (answer.status_code, answer.json()) == (404, {"detail": "This topic is not kept in the event store."})


def test_phi_is_masked_as_peek_masks_it_and_cannot_be_filtered_on(api_as, alice, cluster, payments, topic_name, keep,
                                                                   subjects):  # noqa: F811
    topic = ready_topic(alice, cluster, payments, topic_name("phi"))
    version = schema_version_submit(actor=alice, topic=topic, side="value", fmt="JSON", text=json.dumps(PATIENT))
    subjects.append(version.schema.subject)
    reconcile_schemas(topic.cluster_id)
    sensitive_field_set(actor=alice, schema=version.schema, path="patient.ssn", classification="phi")
    keep(topic, admissions(topic.name, 3))

    answer = query(api_as(alice), topic, {"projection": ["value.patient"]})
    probe = query(api_as(alice), topic, {"filter": {"value.patient.ssn": {"$regex": "^000-00-0001"}}})

    assert answer.status_code == 200, answer.json()
    assert [event["value"] for event in answer.json()["events"]] == [
        {"patient": {"name": f"Patient {i}", "ssn": "[PHI]"}} for i in range(3)]
    assert answer.json()["masked"] == {"key": {}, "value": {"patient.ssn": "phi"}}
    assert probe.status_code == 400
    assert probe.json()["errors"]["filter.value.patient.ssn"] == [
        "value.patient.ssn is or holds a field tagged PHI: its values are masked, so it cannot be filtered or "
        "sorted on."]


@pytest.mark.parametrize("sort", ["timestamp", "-timestamp", "value.ward", "-value.ward"])
def test_cursor_pages_have_no_gaps_or_repeats(api_as, alice, topic, keep, sort):
    # Equal timestamps across partitions and many equal wards: the id breaks the ties.
    documents = [document(topic.name, i % 3, i // 3, minutes=i // 3, ward="AB"[i % 2], n=i) for i in range(23)]
    keep(topic, documents, indexed=["ward"])
    client = api_as(alice)
    seen, cursor, pages = [], None, 0
    while True:
        body = {"sort": sort, "limit": 5, "filter": {"value.n": {"$gte": 1}}, **({"cursor": cursor} if cursor else {})}
        answer = query(client, topic, body)
        assert answer.status_code == 200, answer.json()
        seen += [event["value"]["n"] for event in answer.json()["events"]]
        pages += 1
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            break

    field, reverse = sort.lstrip("-"), sort.startswith("-")
    ordered = sorted(documents[1:], key=lambda d: ((d["_ts"] if field == "timestamp" else d["value"]["ward"]),
                                                   d["_id"]), reverse=reverse)
    assert seen == [d["value"]["n"] for d in ordered]
    assert pages == 5


@pytest.mark.parametrize("sort", ["timestamp", "-timestamp"])
def test_a_bounded_range_read_hour_by_hour_pages_as_one_find_does(api_as, alice, cluster, payments, topic_name,
                                                                  keep, sort):
    # 40 events 7 minutes apart from 08:00 (about 4.5 hours), over two partitions; the range cuts into the first
    # and the last hour, and some hours hold no ward A at all.
    documents = [document(topic_name("x"), i % 2, i // 2, minutes=7 * i, ward="AB"[i // 9 % 2], n=i)
                 for i in range(40)]
    body = {"filter": {"value.ward": "A"}, "from": "2026-12-01T08:20:00Z", "to": "2026-12-01T12:10:00Z",
            "sort": sort, "limit": 4}
    client, pages = api_as(alice), {}
    for by_hour in (True, False):
        topic = topic_create(actor=alice, cluster=cluster, team=payments, name=topic_name(f"h{by_hour:d}"),
                             partitions=2, replication_factor=1)
        events = [{**d, "_id": d["_id"].replace(documents[0]["_id"].split("#")[0], topic.name)} for d in documents]
        keep(topic, events, indexed=["ward"], by_hour=by_hour)
        seen, cursor = [], None
        while True:
            answer = query(client, topic, {**body, **({"cursor": cursor} if cursor else {})})
            assert answer.status_code == 200, answer.json()
            seen.append([event["value"]["n"] for event in answer.json()["events"]])
            if (cursor := answer.json()["next_cursor"]) is None:
                break
        pages[by_hour] = seen

    expected = [d["value"]["n"] for d in documents if d["value"]["ward"] == "A"
                and "2026-12-01T08:20" <= d["_ts"].strftime("%Y-%m-%dT%H:%M") < "2026-12-01T12:10"]
    expected = expected[::-1] if sort.startswith("-") else expected
    assert pages[True] == pages[False] and sum(pages[True], []) == expected
    assert [len(page) for page in pages[True]][:-1] == [4] * (len(pages[True]) - 1)


def test_a_document_without_its_hour_is_read_only_once_the_hours_are_not_relied_on(api_as, alice, topic, keep):
    # A range is read hour by hour only when every document has its hour (a finished backfill): the proof that it
    # is, a document left without one.
    collection = keep(topic, admissions(topic.name, 6), indexed=["ward"])
    collection.update_one({"_id": f"{topic.name}#1#1"}, {"$unset": {"_h": ""}})
    body = {"from": "2026-12-01T08:00:00Z", "to": "2026-12-01T09:00:00Z"}

    by_hour = query(api_as(alice), topic, body).json()["events"]
    EventStoreBinding.objects.filter(topic=topic).update(backfill={})
    one_find = query(api_as(alice), topic, body).json()["events"]

    assert [event["value"]["n"] for event in by_hour] == [0, 1, 2, 4, 5]
    assert [event["value"]["n"] for event in one_find] == [0, 1, 2, 3, 4, 5]


def test_a_cursor_of_another_query_or_altered_is_refused(api_as, alice, topic, keep):
    keep(topic, admissions(topic.name, 6))
    client = api_as(alice)
    cursor = query(client, topic, {"limit": 2}).json()["next_cursor"]

    other = query(client, topic, {"limit": 2, "cursor": cursor, "filter": {"value.ward": "A"}})
    altered = query(client, topic, {"limit": 2, "cursor": cursor[:-3] + "xyz"})

    assert other.status_code == 400 and "another query" in other.json()["errors"]["cursor"][0]
    assert altered.status_code == 400 and "altered" in altered.json()["errors"]["cursor"][0]


def test_a_query_over_the_time_limit_is_a_clear_error_and_audited(api_as, alice, topic, keep, settings):
    keep(topic, [document(topic.name, 0, i, minutes=i, ward="A", n=i, text="x" * 200) for i in range(20_000)],
         indexed=["ward"])
    settings.EVENT_STORE_QUERY_MAX_TIME_MS = 1

    answer = query(api_as(alice), topic, {"filter": {"value.text": {"$regex": "^y"}}})

    assert answer.status_code == 400, answer.json()
    assert answer.json()["errors"]["non_field_errors"] == [
        "The query ran longer than 1 ms and the event store stopped it. Narrow it: a shorter time range (from, to), "
        "or a condition on an indexed field such as value.ward."]
    record = AuditEvent.objects.get(action="event_store.query")
    assert record.note == "timed out after 1 ms"


def test_every_query_is_audited_with_its_filter_count_and_who(api_as, alice, topic, keep):
    keep(topic, admissions(topic.name, 5))

    query(api_as(alice), topic, {"filter": {"value.ward": "A"}, "from": "2026-12-01T08:00:00Z", "limit": 10})

    record = AuditEvent.objects.get(action="event_store.query")
    assert (record.actor_name.split(" ")[0], record.via, record.resource_name, record.team_id) == (
        "alice", AuditEvent.Via.API, str(topic), topic.team_id)
    assert record.after == {"filter": {"value.ward": "A"}, "from": "2026-12-01T08:00:00+00:00", "to": None,
                            "sort": "timestamp", "limit": 10, "next_page": False, "returned": 2}


def test_a_store_that_does_not_answer_is_a_503_with_retry_after_not_a_hang(api_as, alice, topic, keep, settings,
                                                                             silent_store):
    keep(topic, admissions(topic.name, 2))
    settings.EVENT_STORE_URI = silent_store
    settings.EVENT_STORE_QUERY_CONNECT_MS = 300

    answer = query(api_as(alice), topic, {"filter": {"value.ward": "A"}})

    assert answer.status_code == 503, answer.content
    assert answer.json() == {"detail": "The event store is not answering; try the query again in a moment.",
                             "retryable": True}
    assert answer["Retry-After"] == "30"
    record = AuditEvent.objects.get(action="event_store.query")
    assert record.note.startswith("failed: the event store did not answer")
