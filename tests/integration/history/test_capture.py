"""Row history is written by the database, whatever path the change takes."""

import pytest
from django.db import connection

from onboarding.history.models import TeamEvent, TopicEvent
from onboarding.models import Team, Topic
from onboarding.services.teams import team_update

pytestmark = pytest.mark.django_db


def test_service_change_of_a_team_is_recorded_with_before_and_after(payments, alice):
    team_update(actor=alice, team=payments, via="browser", description="Card payments")
    old, new = TeamEvent.objects.filter(pgh_obj_id=payments.pk).order_by("pgh_id")
    assert (old.pgh_label, new.pgh_label) == ("insert", "update")
    assert (old.description, new.description) == ("", "Card payments")


def test_raw_orm_update_is_recorded_without_a_request_context(topic):
    Topic.objects.filter(pk=topic.pk).update(description="changed behind the services' back")
    event = TopicEvent.objects.filter(pgh_obj_id=topic.pk).latest("pgh_id")
    assert event.pgh_label == "update"
    assert event.description == "changed behind the services' back"
    assert event.pgh_context is None


def test_raw_sql_delete_is_recorded(payments):
    team = Team.objects.create(slug="temporary", name="Temporary")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM onboarding_team WHERE id = %s", [team.pk])
    assert TeamEvent.objects.filter(pgh_obj_id=team.pk).latest("pgh_id").pgh_label == "delete"


def test_status_only_changes_write_no_history(topic):
    before = TopicEvent.objects.filter(pgh_obj_id=topic.pk).count()
    Topic.objects.filter(pk=topic.pk).update(status="ready", observed_generation=topic.generation, last_error="",
                                             claim_token="run", failures=3)
    assert TopicEvent.objects.filter(pgh_obj_id=topic.pk).count() == before


def test_snapshots_keep_no_secrets():
    from onboarding.history.models import ApiTokenEvent, ServiceAccountEvent

    assert not {"key_hash"} & {f.name for f in ApiTokenEvent._meta.fields}
    assert not {"pending_secret"} & {f.name for f in ServiceAccountEvent._meta.fields}


def test_granting_the_operator_role_is_recorded_without_the_password(alice):
    from onboarding.history.models import UserEvent

    type(alice).objects.filter(pk=alice.pk).update(is_staff=True)
    event = UserEvent.objects.filter(pgh_obj_id=alice.pk).latest("pgh_id")
    assert (event.pgh_label, event.is_staff) == ("update", True)
    assert "password" not in {f.name for f in UserEvent._meta.fields}
    type(alice).objects.filter(pk=alice.pk).update(last_login="2026-01-01T00:00:00Z")  # sign-ins are not history
    assert UserEvent.objects.filter(pgh_obj_id=alice.pk).latest("pgh_id").pk == event.pk


def test_a_change_request_and_its_decision_are_recorded_and_webhook_secrets_are_not(cluster, payments, alice, otto,
                                                                                   gated):
    from onboarding.changes.requests import change_request_reject
    from onboarding.history.models import ChangeRequestEvent, WebhookEvent
    from onboarding.notifications.webhooks import webhook_create
    from onboarding.services.topics import topic_create

    gated(cluster, "topic.create")
    cr = topic_create(actor=alice, cluster=cluster, team=payments, name="payments.reviewed", partitions=1,
                      replication_factor=1, via="api")
    change_request_reject(actor=otto, change_request=cr, comment="not now", via="browser")

    opened, decided = ChangeRequestEvent.objects.filter(pgh_obj_id=cr.pk).order_by("pgh_id")
    assert (opened.status, decided.status) == ("pending", "rejected")
    assert (decided.decided_by_id, decided.decision_comment) == (otto.pk, "not now")
    webhook_create(actor=alice, team=payments, name="reviews", url="https://hooks.example.org/portal",
                   events=["change_request.created"])
    assert not {"secret"} & {f.name for f in WebhookEvent._meta.fields}
    assert WebhookEvent.objects.get().url == "https://hooks.example.org/portal"
