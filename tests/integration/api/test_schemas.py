"""Schemas through the API on the real registry: a real Celery worker registers every stored version,
and the registry itself is asked whether it has it."""

import json

import pytest

from onboarding.models import ApiToken, AuditEvent, Topic, TopicPolicy
from tests.integration.api.schema_helpers import (
    AVRO_V1,
    AVRO_V2,
    AVRO_V3,
    JSON_V1,
    PROTOBUF_V1,
    SCHEMAS,
    check,
    schema_url,
    settled,
    submit,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client(api_as, alice, cluster, celery_worker):
    return api_as(alice)


@pytest.fixture
def avro_v1(client, schema_topic):
    """A subject whose Avro v1 was submitted through the API and registered: (schema id, topic)."""
    topic = schema_topic()
    answer = submit(client, topic, AVRO_V1, note="first cut")
    assert answer.status_code == 201, answer.content
    settled(answer.json()["id"])
    return answer.json()["id"], topic


def registry_versions(registry_http, registry_url, subject: str) -> list[int]:
    answer = registry_http.get(f"{registry_url}/subjects/{subject}/versions", timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_first_avro_version_is_stored_then_registered_by_the_worker(client, avro_v1, registry_http, registry_url):
    schema_id, topic = avro_v1

    shown = client.get(schema_url(schema_id)).json()

    assert shown["subject"] == f"{topic.name}-value"
    assert shown["topic"] == {"id": topic.pk, "name": topic.name}
    assert (shown["side"], shown["format"], shown["compatibility"]) == ("value", "AVRO", "BACKWARD")
    assert (shown["status"], shown["generation"], shown["observed_generation"]) == ("ready", 1, 1)
    [version] = shown["versions"]
    assert (version["number"], version["author"], version["note"]) == (1, "alice", "first cut")
    assert version["registry_id"] is not None and version["registered_at"] is not None
    assert "text" not in version
    assert json.loads(shown["latest_text"]) == AVRO_V1 and shown["latest_version"] == 1
    assert registry_versions(registry_http, registry_url, shown["subject"]) == [1]


def test_a_compatible_version_passes_the_check_is_submitted_and_an_incompatible_one_is_refused(
        client, avro_v1, registry_http, registry_url):
    schema_id, topic = avro_v1

    verdict = check(client, topic, AVRO_V2)

    assert verdict.status_code == 200, verdict.content
    result = verdict.json()
    assert (result["acceptable"], result["compatible"], result["mode"]) == (True, True, "BACKWARD")
    assert (result["problems"], result["reasons"], result["against_version"]) == ([], [], 1)
    assert any("currency" in change["path"] and change["description"] for change in result["changes"])

    stored = submit(client, topic, AVRO_V2, note="currency")
    assert stored.status_code == 201, stored.content
    assert stored["Location"].endswith(schema_url(schema_id))
    assert stored.json()["latest_version"] == 2
    # The version is queued when the service's transaction commits, before the answer is read back, so the
    # session worker may already have claimed or applied it.
    assert stored.json()["status"] in ("pending", "applying", "applied")
    settled(schema_id)
    assert registry_versions(registry_http, registry_url, f"{topic.name}-value") == [1, 2]

    verdict = check(client, topic, AVRO_V3).json()
    assert (verdict["acceptable"], verdict["compatible"], verdict["against_version"]) == (False, False, 2)
    assert verdict["reasons"] and any("merchant" in reason for reason in verdict["reasons"])

    refused = submit(client, topic, AVRO_V3)
    assert refused.status_code == 400, refused.content
    [message] = refused.json()["errors"]["schema"]
    assert message.startswith("Incompatible with version 2 under BACKWARD: ") and "merchant" in message
    assert client.get(schema_url(schema_id)).json()["latest_version"] == 2
    assert registry_versions(registry_http, registry_url, f"{topic.name}-value") == [1, 2]
    audited = AuditEvent.objects.filter(action="schema.version.create", resource_id=str(schema_id))
    assert sorted(audited.values_list("after__version", "via", "actor_name")) == [(1, "api", "alice"),
                                                                                 (2, "api", "alice")]


def test_the_diff_lists_what_changed_and_a_version_shows_its_text(client, avro_v1):
    schema_id, topic = avro_v1
    assert submit(client, topic, AVRO_V2).status_code == 201
    settled(schema_id)  # registered before the test ends, so the clean-up finds it

    diff = client.get(f"{schema_url(schema_id)}diff/?from=1&to=2")
    default = client.get(f"{schema_url(schema_id)}diff/")
    version = client.get(f"{schema_url(schema_id)}versions/2/")
    missing = client.get(f"{schema_url(schema_id)}diff/?from=1&to=7")

    assert diff.status_code == 200, diff.content
    assert (diff.json()["from_version"], diff.json()["to_version"]) == (1, 2)
    [added] = [c for c in diff.json()["changes"] if "currency" in c["path"]]
    assert "currency" in added["description"]
    assert default.json() == diff.json()
    assert json.loads(version.json()["text"]) == AVRO_V2
    assert (version.json()["number"], version.json()["subject"]) == (2, f"{topic.name}-value")
    assert missing.status_code == 400
    assert missing.json()["errors"] == {"version": [f"No version 7 of {topic.name}-value."]}
    assert client.get(f"{schema_url(schema_id)}versions/9/").status_code == 404


@pytest.mark.parametrize(("fmt", "document", "registry_type"), [
    ("JSON", JSON_V1, "JSON"),
    ("JSON", json.dumps(JSON_V1), "JSON"),
    ("PROTOBUF", PROTOBUF_V1, "PROTOBUF"),
], ids=["json-schema-object", "json-schema-text", "protobuf"])
def test_json_schema_and_protobuf_first_versions_are_accepted_and_registered(
        client, schema_topic, registry_http, registry_url, fmt, document, registry_type):
    topic = schema_topic()

    answer = submit(client, topic, document, fmt)

    assert answer.status_code == 201, answer.content
    assert answer.json()["format"] == fmt
    settled(answer.json()["id"])
    registered = registry_http.get(f"{registry_url}/subjects/{topic.name}-value/versions/1", timeout=10).json()
    assert registered.get("schemaType") == registry_type


def test_an_event_is_tried_against_the_latest_or_a_given_version(client, avro_v1, api_as, vera):
    schema_id, topic = avro_v1
    url = f"{schema_url(schema_id)}try-event/"

    good = client.post(url, {"event": {"id": "p-1", "amount": 1250}}, format="json")
    as_text = client.post(url, {"event": '{"id": "p-1", "amount": 1250}', "version": 1}, format="json")
    bad = client.post(url, {"event": {"id": 5, "amount": "ten"}}, format="json")
    by_a_reader = api_as(vera, scope=ApiToken.Scope.READ).post(url, {"event": {"id": 5}}, format="json")

    assert good.status_code == 200, good.content
    assert good.json() == {"subject": f"{topic.name}-value", "version": 1, "valid": True, "problems": []}
    assert as_text.json()["valid"] is True
    assert bad.json()["valid"] is False
    paths = [problem["path"] for problem in bad.json()["problems"]]
    assert any("id" in path for path in paths) and any("amount" in path for path in paths), paths
    assert all(problem["message"] for problem in bad.json()["problems"])
    assert by_a_reader.status_code == 200 and by_a_reader.json()["valid"] is False
    assert client.post(url, {"event": {}, "version": 4}, format="json").status_code == 404


def test_the_compatibility_mode_is_changed_in_the_registry_unless_the_cluster_forbids_it(
        client, avro_v1, cluster, registry_http, registry_url):
    schema_id, topic = avro_v1

    changed = client.patch(schema_url(schema_id), {"compatibility": "FORWARD"}, format="json")

    assert changed.status_code == 200, changed.content
    assert (changed.json()["compatibility"], changed.json()["generation"]) == ("FORWARD", 2)
    # The change is queued on commit, so a worker may already have claimed it (or applied it) when the answer
    # reads the schema back.
    assert changed.json()["status"] in ("pending", "applying", "applied")
    settled(schema_id)
    config = registry_http.get(f"{registry_url}/config/{topic.name}-value", timeout=10).json()
    assert config["compatibilityLevel"] == "FORWARD"

    TopicPolicy.objects.filter(cluster=cluster).update(forbidden_compatibilities=["NONE"])
    assert AuditEvent.objects.get(action="schema.compatibility", resource_id=str(schema_id)).via == "api"
    refused = client.patch(schema_url(schema_id), {"compatibility": "NONE"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"compatibility": ["NONE is not allowed on the dev cluster local."]}


def test_the_list_shows_the_schemas_of_visible_topics_with_filters(client, schema_topic, api_as, carol):
    public, private = schema_topic(), schema_topic(visibility=Topic.Visibility.PRIVATE)
    public_id = submit(client, public, AVRO_V1).json()["id"]
    private_id = submit(client, private, JSON_V1, "JSON").json()["id"]

    def listed(client_, query: str = "") -> set[int]:
        answer = client_.get(f"{SCHEMAS}{query}")
        assert answer.status_code == 200, answer.content
        return {item["id"] for item in answer.json()["results"]} & {public_id, private_id}

    outsider = api_as(carol)
    assert listed(client) == {public_id, private_id}
    assert listed(client, f"?topic={public.pk}") == {public_id}
    assert listed(client, "?team=payments&format=JSON") == {private_id}
    assert listed(client, "?side=key") == listed(client, "?team=clinical") == set()
    assert listed(outsider) == {public_id}
    assert outsider.get(schema_url(private_id)).status_code == 404
    assert outsider.post(f"{schema_url(private_id)}try-event/", {"event": {}}, format="json").status_code == 404
    assert outsider.get(schema_url(public_id)).status_code == 200
    for schema_id in (public_id, private_id):
        settled(schema_id)  # registered before the test ends, so the clean-up finds it
    with_text = client.get(f"{SCHEMAS}?include=text&topic={public.pk}").json()["results"][0]
    assert json.loads(with_text["versions"][0]["text"]) == AVRO_V1
    assert client.get(f"{SCHEMAS}?include=everything").json() == {
        "errors": {"include": ["Only text can be included (?include=text)."]}}
