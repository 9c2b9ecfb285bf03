"""Classification follows data: events routed (by the real router) from a tagged source into another team's
topic are masked when that team peeks its own destination, also for tags added to the source afterwards;
the destination's page and the catalogue say where the classification comes from."""

import uuid

import pytest

from onboarding.models import AuditEvent, Subscription
from onboarding.reconcile.access import reconcile_access
from onboarding.reconcile.topics import reconcile_cluster
from onboarding.routing.decode import encode_avro
from onboarding.services.sensitivity import sensitive_field_set
from onboarding.services.service_accounts import service_account_create
from onboarding.services.subscriptions import subscription_request
from onboarding.services.topics import topic_create
from tests.integration.api.conftest import subjects  # noqa: F401  (fixture)
from tests.integration.lineage.test_peek import ADMISSION, admission, produce, ready_topic, registered
from tests.integration.routing.conftest import read_committed, router_thread, routing_topics  # noqa: F401
from tests.integration.routing.test_portal_routing import cleanup_topics  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def test_a_routed_copy_is_masked_as_its_source_and_says_where_its_classification_comes_from(
        settings, api_as, client_for, alice, carol, cluster, payments, clinical, subjects, routing_topics,  # noqa: F811
        router_thread, cleanup_topics):  # noqa: F811 - fixtures imported above
    settings.ROUTER_RULES_TOPIC = routing_topics("rules", compact=True)
    run = uuid.uuid4().hex[:8]
    source = ready_topic(alice, cluster, payments, f"payments.admissions-{run}")
    version = registered(alice, source, "AVRO", ADMISSION, subjects)
    sensitive_field_set(actor=alice, schema=version.schema, path="patient.ssn", classification="phi")
    account, _ = service_account_create(actor=carol, cluster=cluster, team=clinical, name=f"copies-{run}")
    destination_name = f"clinical.admissions-copy-{run}"
    subscription = subscription_request(actor=carol, subscriber=clinical, source=source, service_account=account,
                                        mode=Subscription.Mode.ROUTED, reason="Ward dashboards",
                                        destination_name=destination_name, via="api")
    cleanup_topics += [source.name, destination_name, f"{destination_name}.dlq"]
    reconcile_cluster(cluster.pk)  # the destination the subscription created
    reconcile_access(cluster.pk)
    subscription.refresh_from_db()
    assert subscription.status == "ready", subscription.last_error
    destination = subscription.destination

    router_thread(f"portal-router-{run}", settings.ROUTER_RULES_TOPIC)
    produce(source.name, [encode_avro(version.registry_id, version.text, admission(i)) for i in range(6)])
    assert len(read_committed(destination.name, expect=6, timeout=90)) == 6

    carol_api = api_as(carol)
    answer = carol_api.get(f"/api/v1/topics/{destination.pk}/peek/?limit=6")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert len(body["events"]) == 6
    assert all(e["value"]["patient"]["ssn"] == "[PHI]" for e in body["events"])
    assert all(e["value"]["patient"]["name"].startswith("Patient ") for e in body["events"])
    assert body["masked"]["value"] == {"patient.ssn": "phi"}
    assert body["inherited"]["value"] == {"patient.ssn": source.name}
    assert AuditEvent.objects.filter(action="topic.peek", resource_id=str(destination.pk)).exists()

    # A tag the source's team adds later applies to the copies at once.
    sensitive_field_set(actor=alice, schema=version.schema, path="patient.name", classification="pii")
    again = carol_api.get(f"/api/v1/topics/{destination.pk}/peek/?limit=6").json()
    assert all(e["value"]["patient"] == {"name": "[PII]", "ssn": "[PHI]"} for e in again["events"])

    overview = client_for(carol).get(f"/topics/{destination.pk}/").content.decode()
    assert "PHI, PII inherited" in overview and "routed in · PHI, PII" in overview  # the lineage picture
    page = client_for(carol).get(f"/topics/{destination.pk}/?tab=schemas").content.decode()
    assert 'data-testid="inherited-tags"' in page
    assert f"PHI, inherited from <a class=\"mono\" href=\"/topics/{source.pk}/\">{source.name}</a>" in page
    catalogue = client_for(carol).get("/catalogue/", {"q": destination.name}).content.decode()
    assert f"PHI, inherited from {source.name}" in catalogue and f"PII, inherited from {source.name}" in catalogue


def test_a_copy_of_a_copy_inherits_from_the_first_source_and_a_private_source_stays_unnamed(
        client_for, alice, carol, rita, cluster, payments, clinical):
    from onboarding.models import Schema, SensitiveField, Topic
    from onboarding.selectors.classification import classification_of

    def topic(actor, team, stem, **fields):
        return topic_create(actor=actor, cluster=cluster, team=team, name=f"{team.slug}.{stem}-{uuid.uuid4().hex[:6]}",
                            partitions=1, replication_factor=1, **fields)

    first = topic(alice, payments, "first", visibility=Topic.Visibility.PRIVATE)
    middle, last = topic(carol, clinical, "middle"), topic(alice, payments, "last")
    schema = Schema.objects.create(topic=first, side="value", format="JSON")
    SensitiveField.objects.create(schema=schema, path="card.number", classification="secret")
    Subscription.objects.create(subscriber=clinical, source=first, mode=Subscription.Mode.ROUTED, destination=middle,
                                service_account=service_account_create(actor=carol, cluster=cluster, team=clinical,
                                                                       name="m")[0],
                                reason="r", decision=Subscription.Decision.APPROVED)
    revoked = Subscription.objects.create(
        subscriber=payments, source=middle, mode=Subscription.Mode.ROUTED, destination=last, reason="r",
        service_account=service_account_create(actor=alice, cluster=cluster, team=payments, name="l")[0],
        decision=Subscription.Decision.REVOKED)
    assert classification_of(last) == []  # never approved: it delivered nothing
    Subscription.objects.filter(pk=revoked.pk).update(delete_requested_at=revoked.created_at)  # revoked after use
    [tag] = classification_of(last)
    assert (tag.path, tag.classification, tag.source) == ("card.number", "secret", first)

    page = client_for(rita).get(f"/topics/{last.pk}/?tab=schemas").content.decode()  # rita cannot see the first
    assert "SECRET, inherited from a private topic" in page and first.name not in page
