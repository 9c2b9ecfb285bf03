"""Change requests through the API, the browser pages and the admin: the same rules, the same answers."""

import pytest
from django.utils import timezone

from onboarding.models import AuditEvent, ChangeRequest, Topic
from onboarding.services.topics import topic_create


@pytest.fixture
def ready_made_topic(cluster, payments, alice, topic_name):
    topic = topic_create(actor=alice, cluster=cluster, team=payments, name=topic_name("page"), partitions=1,
                         replication_factor=1)
    # As a reconcile leaves it: a topic that never reached Kafka is deleted without a request.
    Topic.objects.filter(pk=topic.pk).update(status="ready", observed_generation=topic.generation,
                                             ready_at=timezone.now())
    topic.refresh_from_db()
    return topic


@pytest.mark.django_db
def test_api_gated_create_answers_202_and_another_owner_approves(cluster, payments, alice, otto, carol, vera,
                                                                 gated, api_as, topic_name):
    gated(cluster, "topic.create")
    name = topic_name("api")

    answer = api_as(alice).post("/api/v1/topics/", {"cluster": "local", "team": "payments", "name": name,
                                                     "partitions": 1, "replication_factor": 1}, format="json")

    assert answer.status_code == 202, answer.content
    body = answer.json()
    assert body["status"] == "pending" and body["operations"] == ["topic.create"]
    assert answer["Location"].endswith(f"/api/v1/change-requests/{body['id']}/")
    assert not Topic.objects.filter(name=name).exists()
    url = f"/api/v1/change-requests/{body['id']}/"

    refused = api_as(alice).post(url + "approve/", {"comment": "mine"}, format="json")
    assert refused.status_code == 403 and "someone else" in refused.json()["detail"]
    assert api_as(carol).get(url).status_code == 404
    assert api_as(carol).post(url + "approve/", {}, format="json").status_code == 404
    assert [r["id"] for r in api_as(vera).get("/api/v1/change-requests/").json()["results"]] == [body["id"]]
    assert api_as(carol).get("/api/v1/change-requests/").json()["results"] == []

    approved = api_as(otto).post(url + "approve/", {"comment": "ok for dev"}, format="json")

    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "applied" and approved.json()["decided_by"] == "otto"
    assert Topic.objects.filter(name=name).exists()


@pytest.mark.django_db
def test_api_refresh_and_reject(cluster, payments, alice, operator, gated, api_as, ready_made_topic):
    gated(cluster, "topic.update")
    answer = api_as(alice).patch(f"/api/v1/topics/{ready_made_topic.pk}/", {"partitions": 2}, format="json")
    assert answer.status_code == 202
    url = f"/api/v1/change-requests/{answer.json()['id']}/"

    refreshed = api_as(alice).post(url + "refresh/", format="json")
    assert refreshed.status_code == 200 and refreshed.json()["refreshed_at"] >= answer.json()["refreshed_at"]

    rejected = api_as(operator).post(url + "reject/", {"comment": "no"}, format="json")
    assert rejected.json()["status"] == "rejected"
    ready_made_topic.refresh_from_db()
    assert ready_made_topic.partitions == 1


@pytest.mark.django_db
def test_api_promote_without_a_next_environment_is_a_field_error(alice, api_as, ready_made_topic):
    answer = api_as(alice).post(f"/api/v1/topics/{ready_made_topic.pk}/promote/", {}, format="json")
    assert answer.status_code == 400
    assert "no environment after dev" in str(answer.json()).lower()


@pytest.mark.django_db
def test_browser_delete_leads_to_the_request_page_where_only_others_decide(cluster, alice, operator, carol, gated,
                                                                           client_for, ready_made_topic):
    gated(cluster, "topic.delete")
    alice_client = client_for(alice)

    answer = alice_client.post(f"/topics/{ready_made_topic.pk}/delete/", {"confirm_name": ready_made_topic.name})

    cr = ChangeRequest.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/changes/{cr.pk}/"
    page = alice_client.get(answer["Location"]).content.decode()
    assert "needs approval" in page and "delete topic" in page
    assert "Approve and apply" not in page and "someone else must approve" in page
    assert client_for(carol).get(f"/changes/{cr.pk}/").status_code == 404
    olivia = client_for(operator)
    assert "Approve and apply" in olivia.get(f"/changes/{cr.pk}/").content.decode()
    assert str(cr.pk) in olivia.get("/changes/").content.decode()

    olivia.post(f"/changes/{cr.pk}/approve/", {"comment": "retired"})

    cr.refresh_from_db()
    ready_made_topic.refresh_from_db()
    assert cr.status == "applied" and ready_made_topic.wants_deletion


@pytest.mark.django_db
def test_admin_edit_of_a_gated_topic_says_where_the_request_waits(cluster, operator, gated, client_for,
                                                                  ready_made_topic):
    gated(cluster, "topic.update")
    client = client_for(operator)
    url = f"/admin/onboarding/topic/{ready_made_topic.pk}/change/"
    form = {"partitions": 4, "configs": "{}", "description": "", "tags": "", "visibility": "public",
            "drift_reaction": "", "expected_generation": ready_made_topic.generation,
            "attempts-TOTAL_FORMS": 0, "attempts-INITIAL_FORMS": 0}

    answer = client.post(url, form, follow=True)

    assert "change request #" in answer.content.decode()
    ready_made_topic.refresh_from_db()
    assert ready_made_topic.partitions == 1
    assert ChangeRequest.objects.get().operations == ["topic.update"]


@pytest.mark.django_db
def test_api_awaiting_me_lists_what_i_may_decide_and_never_my_own(cluster, alice, otto, bob, gated, api_as,
                                                                  ready_made_topic):
    gated(cluster, "topic.update")
    answer = api_as(alice).patch(f"/api/v1/topics/{ready_made_topic.pk}/", {"description": "x"}, format="json")
    mine = answer.json()["id"]

    def awaiting(user):
        return [r["id"] for r in api_as(user).get("/api/v1/change-requests/?awaiting_me=true").json()["results"]]

    assert (awaiting(otto), awaiting(alice), awaiting(bob)) == ([mine], [], [])


@pytest.mark.django_db
def test_browser_promote_form_is_prefilled_and_proposes_the_adjusted_topic(prod_cluster, alice, vera, gated,
                                                                          client_for, ready_made_topic):
    gated(prod_cluster, "topic.create")
    client = client_for(alice)
    assert "Promote to prod" in client.get(f"/topics/{ready_made_topic.pk}/").content.decode()
    assert "Promote to prod" not in client_for(vera).get(f"/topics/{ready_made_topic.pk}/").content.decode()
    form = client.get(f"/topics/{ready_made_topic.pk}/promote/").content.decode()
    assert 'name="partitions" value="1"' in form and "local-prod" in form

    refused = client.post(f"/topics/{ready_made_topic.pk}/promote/", {"partitions": 1000, "replication_factor": 1,
                                                                      "configs": "{}"})
    assert refused.status_code == 400 and "Partitions must be between" in refused.content.decode()

    answer = client.post(f"/topics/{ready_made_topic.pk}/promote/", {"partitions": 4, "replication_factor": 1,
                                                                     "configs": '{"retention.ms": 86400000}'})

    cr = ChangeRequest.objects.get()
    assert answer["Location"] == f"/changes/{cr.pk}/" and cr.cluster == prod_cluster
    assert cr.changes[0]["payload"]["partitions"] == 4
    assert cr.changes[0]["payload"]["configs"] == {"retention.ms": "86400000"}
    assert client_for(vera).post(f"/topics/{ready_made_topic.pk}/promote/", {}).status_code == 403


@pytest.mark.django_db
def test_admin_cluster_page_edits_the_change_policy_through_the_service(client, operator, cluster):
    from django.urls import reverse

    from onboarding.models import AuditEvent, ChangePolicy
    from tests.fixtures.actors import PASSWORD
    from tests.integration.admin.forms import changeform_data, form_errors

    assert client.login(username=operator.username, password=PASSWORD)
    url = reverse("admin:onboarding_cluster_change", args=[cluster.pk])
    data = changeform_data(client.get(url))
    data.update({"change_policy-0-operations_needing_approval": "topic.delete,schema.compatibility",
                 "change_policy-0-approvers": "operators", "change_policy-0-request_ttl_hours": "24"})

    bad = client.post(url, {**data, "change_policy-0-operations_needing_approval": "topic.explode"})
    assert bad.status_code == 200 and "operations_needing_approval" in form_errors(bad)
    answer = client.post(url, data)

    assert answer.status_code == 302, form_errors(answer)
    policy = ChangePolicy.objects.get(cluster=cluster)
    assert (policy.operations_needing_approval, policy.approvers, policy.request_ttl_hours) == (
        ["topic.delete", "schema.compatibility"], "operators", 24)
    assert AuditEvent.objects.get(action="change_policy.update").via == "admin"


@pytest.mark.django_db
def test_viewers_read_a_request_but_may_not_refresh_it(cluster, payments, alice, vera, gated, api_as, client_for,
                                                       ready_made_topic):
    gated(cluster, "topic.update")
    answer = api_as(alice).patch(f"/api/v1/topics/{ready_made_topic.pk}/", {"partitions": 2}, format="json")
    pk = answer.json()["id"]

    page = client_for(vera).get(f"/changes/{pk}/").content.decode()
    refused = api_as(vera).post(f"/api/v1/change-requests/{pk}/refresh/", format="json")

    assert 'data-testid="refresh"' not in page
    assert 'data-testid="refresh"' in client_for(alice).get(f"/changes/{pk}/").content.decode()
    assert refused.status_code == 403 and "refresh" in refused.json()["detail"]
    assert not AuditEvent.objects.filter(action="change_request.refresh").exists()
