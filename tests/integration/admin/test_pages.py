"""Every admin page an operator uses renders, and only staff get in."""

import pytest
from django.urls import reverse
from django.utils import timezone

from onboarding.models import ApiToken, ApplyAttempt, AuditEvent, Cluster, Membership, Team, Topic
from tests.fixtures.actors import PASSWORD

pytestmark = pytest.mark.django_db

MODELS = [Cluster, Team, Membership, Topic, AuditEvent, ApiToken, ApplyAttempt]


@pytest.fixture
def one_of_each(cluster, alice, ready_topic):
    """A row of every model, written the way the system writes them."""
    ApplyAttempt.objects.create(topic=ready_topic, generation=2, outcome=ApplyAttempt.Outcome.READY,
                                actions=["create partitions=3"], started_at=timezone.now(), duration_ms=12,
                                run_id="run-1")
    ApiToken.new(user=alice, name="ci")
    return {model: model.objects.first() for model in MODELS}


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_the_changelist_renders_for_an_operator(operator_client, one_of_each, model):
    response = operator_client.get(_url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_the_change_page_renders_for_an_operator(operator_client, one_of_each, model):
    response = operator_client.get(_url(model, "change", one_of_each[model].pk))
    assert response.status_code == 200


def test_the_changelists_find_rows_by_search_and_filter(operator_client, one_of_each, ready_topic):
    ready_topic.tags = ["billing"]
    ready_topic.save()
    for model, query in ((Topic, "q=billing"), (Topic, "status__exact=ready"), (AuditEvent, "q=payments"),
                         (AuditEvent, "via__exact=system"), (ApplyAttempt, "outcome__exact=ready")):
        response = operator_client.get(f"{_url(model, 'changelist')}?{query}")
        assert response.status_code == 200
        assert response.context["cl"].result_count >= 1, (model, query)


def test_a_non_staff_user_is_sent_to_the_admin_login(client, alice):
    assert client.login(username="alice", password=PASSWORD)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_an_anonymous_visitor_is_sent_to_the_admin_login(client, db):
    response = client.get(_url(Topic, "changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
