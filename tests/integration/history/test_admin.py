"""In the admin, history and audit records are read-only, even for superusers, and searchable."""

import pytest
from django.contrib import admin
from django.test import RequestFactory

from onboarding.history.models import TRACKED_EVENT_MODELS, TopicEvent
from onboarding.models import AuditEvent, Topic
from tests.integration.history.conftest import login

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [*TRACKED_EVENT_MODELS, AuditEvent], ids=lambda m: m.__name__)
def test_nobody_may_add_change_or_delete_records(model, operator):
    request = RequestFactory().get("/admin/")
    request.user = operator  # a superuser
    model_admin = admin.site._registry[model]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.has_view_permission(request)


def test_the_event_list_filters_by_via_actor_and_team_and_searches_request_ids(client, operator, topic, payments):
    Topic.objects.filter(pk=topic.pk).update(description="from the shell")  # no context
    login(client, operator)
    url = "/admin/history/topicevent/"
    listing = client.get(url)
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == TopicEvent.objects.filter(pgh_obj_id=topic.pk).count()
    assert client.get(url, {"via": "admin"}).context["cl"].result_count == 0
    assert client.get(url, {"team__id__exact": payments.pk}).context["cl"].result_count == 2
    assert client.get(url, {"q": "no-such-request"}).context["cl"].result_count == 0
    change = client.get(f"{url}{TopicEvent.objects.latest('pgh_id').pk}/change/")
    assert change.status_code == 200 and b"Save" not in change.content


def test_the_audit_record_list_filters_by_team(client, operator, topic, payments):
    login(client, operator)
    response = client.get("/admin/onboarding/auditevent/", {"team__id__exact": payments.pk})
    assert response.status_code == 200
    assert response.context["cl"].result_count == AuditEvent.objects.filter(team=payments).count() > 0
