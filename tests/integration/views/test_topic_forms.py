"""The create, edit and delete forms: the services' messages on the right fields, never a 500."""

import re

import pytest
from django.urls import reverse

from onboarding.models import AuditEvent, ResourceStatus, Topic, TopicPolicy
from tests.integration.views.htmx import HTMX

pytestmark = pytest.mark.django_db


def create_data(cluster, team, **changes):
    data = {"cluster": cluster.pk, "team": team.pk, "name": "payments.refunds", "partitions": "3",
            "replication_factor": "1", "cfg_retention_ms": "", "cfg_cleanup_policy": "delete",
            "description": "Refunds issued", "tags": "billing, pii", "visibility": "public"}
    return {**data, **changes}


def errors_of(html: str, field: str) -> list[str]:
    """The messages in a field's error list (the element the validator swaps)."""
    match = re.search(rf'<ul class="errorlist" id="err-{re.escape(field)}"[^>]*>(.*?)</ul>', html, re.S)
    assert match, f"no error list for {field}"
    return re.findall(r"<li>(.*?)</li>", match.group(1), re.S)


def test_a_valid_form_registers_the_topic_and_redirects_to_it(client_for, alice, cluster, payments):
    response = client_for(alice).post(reverse("onboarding:topic_create"), create_data(cluster, payments))

    topic = Topic.objects.get(name="payments.refunds")
    assert response.status_code == 302
    assert response["Location"] == reverse("onboarding:topic_detail", args=[topic.pk])
    assert (topic.partitions, topic.tags, topic.configs["cleanup.policy"]) == (3, ["billing", "pii"], "delete")
    assert AuditEvent.objects.get(action="topic.create", resource_id=str(topic.pk)).via == AuditEvent.Via.BROWSER


def test_an_htmx_submit_is_answered_with_hx_location(client_for, alice, cluster, payments):
    response = client_for(alice).post(reverse("onboarding:topic_create"), create_data(cluster, payments), **HTMX)

    assert response.status_code == 204
    assert response["HX-Location"].startswith("/topics/")


def test_garbage_in_number_fields_is_a_field_error_not_a_500(client_for, alice, cluster, payments):
    response = client_for(alice).post(reverse("onboarding:topic_create"), create_data(
        cluster, payments, partitions="abc", replication_factor="x", name="payments.Bad Name"))

    html = response.content.decode()
    assert response.status_code == 400
    assert errors_of(html, "partitions") == ["Enter a whole number."]
    assert errors_of(html, "replication_factor") == ["Enter a whole number."]
    # The other fields are still checked by the service, so every problem shows at once.
    assert "may only contain letters, digits" in errors_of(html, "name")[0]
    assert not Topic.objects.exists()


def test_policy_violations_show_the_services_text_next_to_each_field(client_for, alice, cluster, payments):
    response = client_for(alice).post(reverse("onboarding:topic_create"), create_data(
        cluster, payments, name="orders", partitions="99", replication_factor="2", cfg_retention_ms="5",
        tags="Not A Tag"))

    html = response.content.decode()
    assert response.status_code == 400
    assert errors_of(html, "name") == [
        r"The name must match this cluster&#x27;s pattern ^payments\.[a-z0-9][a-z0-9._-]*$; for example "
        "payments.orders."]
    assert errors_of(html, "partitions") == ["Partitions must be between 1 and 24 on this cluster."]
    assert errors_of(html, "replication_factor") == ["Replication factor must be one of 1, 3 on this cluster."]
    assert errors_of(html, "cfg_retention_ms") == ["retention.ms: must be at least 60 000; got 5."]
    assert errors_of(html, "tags")[0].startswith("Tags use lowercase letters")


def test_a_taken_name_is_reported_on_the_name_field(client_for, alice, cluster, payments, public_topic):
    response = client_for(alice).post(reverse("onboarding:topic_create"),
                                      create_data(cluster, payments, name=public_topic.name))

    assert errors_of(response.content.decode(), "name") == ["A topic with this name already exists on this cluster."]


def test_the_form_shows_the_policy_limits_beside_the_fields(client_for, alice, cluster, payments):
    html = client_for(alice).get(reverse("onboarding:topic_create")).content.decode()

    assert r"Must match ^payments\.[a-z0-9][a-z0-9._-]*$" in html
    assert "1 to 24; default 3" in html
    assert "Allowed: 1. The cluster has 1 broker." in html  # the policy's 1 and 3, capped by the stack's broker
    assert "60000 to 31536000000" in html  # retention.ms, via policies.describe_rule
    assert "one of delete, compact, compact,delete" in html


def test_the_validate_endpoint_answers_with_the_error_text(client_for, alice, cluster, payments):
    response = client_for(alice).post(reverse("onboarding:topic_validate"),
                                      create_data(cluster, payments, name="payments.Bad!"), **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="err-name" aria-live="polite" hx-swap-oob="true"' in html
    assert errors_of(html, "name") == [
        "Kafka topic names may only contain letters, digits, &#x27;.&#x27;, &#x27;_&#x27; and &#x27;-&#x27;; "
        "found &#x27;!&#x27;."]
    assert errors_of(html, "partitions") == []
    assert not Topic.objects.exists()


def test_the_validate_endpoint_clears_errors_once_the_input_is_fixed(client_for, alice, cluster, payments):
    client = client_for(alice)
    bad = client.post(reverse("onboarding:topic_validate"), create_data(cluster, payments, name="orders"))
    good = client.post(reverse("onboarding:topic_validate"), create_data(cluster, payments, name="payments.orders"))

    assert errors_of(bad.content.decode(), "name")
    assert errors_of(good.content.decode(), "name") == []


def test_the_validate_endpoint_does_not_scold_an_untouched_name(client_for, alice, cluster, payments):
    response = client_for(alice).post(reverse("onboarding:topic_validate"), create_data(cluster, payments, name=""))

    assert errors_of(response.content.decode(), "name") == []


def test_an_empty_name_is_refused_on_submit(client_for, alice, cluster, payments):
    response = client_for(alice).post(reverse("onboarding:topic_create"), create_data(cluster, payments, name=""))

    assert errors_of(response.content.decode(), "name") == ["Enter a topic name."]


# ---------------------------------------------------------------------------------------------- edit

def edit_data(topic, **changes):
    data = {"generation": topic.generation, "partitions": topic.partitions, "cfg_retention_ms": "86400000",
            "description": topic.description, "tags": ", ".join(topic.tags), "visibility": topic.visibility,
            "drift_reaction": ""}
    return {**data, **changes}


def test_editing_configs_and_partitions_bumps_the_generation(client_for, alice, public_topic):
    response = client_for(alice).post(reverse("onboarding:topic_edit", args=[public_topic.pk]),
                                      edit_data(public_topic, partitions="6", cfg_retention_ms="3600000"))

    public_topic.refresh_from_db()
    assert response.status_code == 302
    assert (public_topic.partitions, public_topic.configs, public_topic.generation) == (6, {"retention.ms": "3600000"},
                                                                                        2)


def test_editing_only_the_description_leaves_kafka_alone(client_for, alice, public_topic):
    client_for(alice).post(reverse("onboarding:topic_edit", args=[public_topic.pk]),
                           edit_data(public_topic, description="All orders"))

    public_topic.refresh_from_db()
    # The generation moves (a stale form is refused) but the desired Kafka state did not: still pending, not re-planned.
    assert (public_topic.description, public_topic.generation, public_topic.observed_generation) == ("All orders", 2, 0)
    assert public_topic.status == ResourceStatus.PENDING


def test_a_stale_generation_shows_the_conflict(client_for, alice, bob, public_topic):
    from onboarding.services.topics import topic_update

    topic_update(actor=bob, topic=public_topic, partitions=4)  # someone else saved first

    response = client_for(alice).post(reverse("onboarding:topic_edit", args=[public_topic.pk]),
                                      edit_data(public_topic, partitions="6"))

    assert response.status_code == 400
    assert "The topic changed since you loaded it" in errors_of(response.content.decode(), "form")[0]
    public_topic.refresh_from_db()
    assert public_topic.partitions == 4


def test_shrinking_partitions_is_explained(client_for, alice, public_topic):
    response = client_for(alice).post(reverse("onboarding:topic_edit", args=[public_topic.pk]),
                                      edit_data(public_topic, partitions="2"))

    assert response.status_code == 400
    assert errors_of(response.content.decode(), "partitions") == [
        "Partitions can grow but never shrink: this topic has 3."]


def test_edit_validation_reports_problems_and_saves_nothing(client_for, alice, public_topic):
    response = client_for(alice).post(reverse("onboarding:topic_edit_validate", args=[public_topic.pk]),
                                      edit_data(public_topic, partitions="abc", cfg_retention_ms="1", tags="A B"),
                                      **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert errors_of(html, "partitions") == ["Enter a whole number."]
    assert errors_of(html, "cfg_retention_ms") == ["retention.ms: must be at least 60 000; got 1."]
    assert errors_of(html, "tags")
    public_topic.refresh_from_db()
    assert (public_topic.generation, public_topic.configs) == (1, {"retention.ms": "86400000"})
    assert not AuditEvent.objects.filter(action="topic.update").exists()


def test_garbage_on_the_edit_form_is_a_field_error(client_for, alice, public_topic):
    response = client_for(alice).post(reverse("onboarding:topic_edit", args=[public_topic.pk]),
                                      edit_data(public_topic, partitions="abc", generation="x", visibility="nope"))

    assert response.status_code == 400
    assert errors_of(response.content.decode(), "partitions") == ["Enter a whole number."]


# ---------------------------------------------------------------------------------------------- delete

def test_deleting_asks_for_the_name_first(client_for, alice, public_topic):
    client = client_for(alice)

    page = client.get(reverse("onboarding:topic_delete", args=[public_topic.pk]))
    wrong = client.post(reverse("onboarding:topic_delete", args=[public_topic.pk]), {"confirm_name": "orders"})

    assert page.status_code == 200 and "Type" in page.content.decode()
    assert wrong.status_code == 400
    assert errors_of(wrong.content.decode(), "confirm_name") == [
        "Type the topic&#x27;s name, payments.orders, to confirm."]
    public_topic.refresh_from_db()
    assert public_topic.status == ResourceStatus.PENDING


def test_the_right_name_requests_deletion(client_for, bob, public_topic):
    response = client_for(bob).post(reverse("onboarding:topic_delete", args=[public_topic.pk]),
                                     {"confirm_name": public_topic.name})

    public_topic.refresh_from_db()
    assert response.status_code == 302
    assert public_topic.status == ResourceStatus.DELETING


def test_switching_cluster_shows_that_clusters_rules(client_for, alice, cluster, payments):
    from onboarding.services.clusters import cluster_create

    strict = cluster_create(actor=None, name="prod-eu", environment="prod", bootstrap_servers="127.0.0.1:1")
    TopicPolicy.objects.filter(cluster=strict).update(
        min_partitions=6, max_partitions=12, default_partitions=6, allowed_replication_factors=[3],
        default_replication_factor=3, config_rules={"retention.ms": {"min": 3_600_000, "max": 86_400_000}},
        default_configs={})

    html = client_for(alice).get(reverse("onboarding:topic_create") + f"?cluster={strict.pk}&name=payments.x"
                                 "&partitions=2&replication_factor=1", **HTMX).content.decode()

    assert "6 to 12; default 6" in html and "Allowed: 3" in html
    assert "3600000 to 86400000" in html and "cleanup.policy" not in html
    assert 'value="payments.x"' in html  # what was typed survives the switch...
    assert 'name="partitions" value="6"' in html  # ...but sizes start from the new cluster's defaults


def test_the_name_rule_follows_the_chosen_team(client_for, operator, cluster, payments, clinical):
    response = client_for(operator).post(reverse("onboarding:topic_validate"),
                                         create_data(cluster, clinical, name="payments.orders"))

    html = response.content.decode()
    assert r'<div class="limits" id="limit-name" hx-swap-oob="true">Must match ^clinical\.' in html
    assert "The name must match this cluster&#x27;s pattern ^clinical" in errors_of(html, "name")[0]


def test_a_topic_being_deleted_cannot_be_edited(client_for, alice, public_topic):
    from onboarding.services.topics import topic_delete

    topic_delete(actor=alice, topic=public_topic, confirm_name=public_topic.name)

    response = client_for(alice).get(reverse("onboarding:topic_edit", args=[public_topic.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("onboarding:topic_detail", args=[public_topic.pk])
    assert "is deleted or being deleted" in response.content.decode()


def test_a_config_value_the_policy_no_longer_allows_is_shown_and_kept(client_for, alice, public_topic):
    Topic.objects.filter(pk=public_topic.pk).update(configs={"retention.ms": "86400000", "compression.type": "brotli",
                                                             "unclean.leader.election.enable": "false"})
    public_topic.refresh_from_db()
    client = client_for(alice)

    page = client.get(reverse("onboarding:topic_edit", args=[public_topic.pk])).content.decode()
    client.post(reverse("onboarding:topic_edit", args=[public_topic.pk]),
                edit_data(public_topic, cfg_compression_type="brotli", description="Kept"))

    assert "brotli (current, no longer allowed)" in page
    assert "unclean.leader.election.enable=false" in page
    public_topic.refresh_from_db()
    assert public_topic.description == "Kept"
    assert public_topic.configs["compression.type"] == "brotli"
    assert (public_topic.generation, public_topic.observed_generation) == (2, 0)  # a description edit only
