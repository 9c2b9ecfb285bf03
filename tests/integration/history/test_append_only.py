"""History and audit rows cannot be changed or removed, not even with SQL."""

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction

from onboarding.history.models import TeamEvent
from onboarding.models import AuditEvent, Team
from onboarding.services.teams import team_update


@pytest.fixture
def recorded(payments, alice):
    team_update(actor=alice, team=payments, via="browser", description="Card payments")
    return TeamEvent.objects.filter(pgh_obj_id=payments.pk).latest("pgh_id"), AuditEvent.objects.latest("id")


def _refused(sql: str, params=()) -> None:
    with pytest.raises(DatabaseError, match="pgtrigger: Cannot"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


@pytest.mark.parametrize("table", ["history_teamevent", "onboarding_auditevent"])
def test_rows_cannot_be_updated_deleted_or_truncated(recorded, table):
    _refused(f"UPDATE {table} SET pgh_label = 'x'" if table.startswith("history") else
             f"UPDATE {table} SET note = 'x'")
    _refused(f"DELETE FROM {table}")
    _refused(f"TRUNCATE {table}")


def test_orm_update_of_an_audit_record_is_refused(recorded):
    _, audit = recorded
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=audit.pk).update(note="rewritten")


def test_removing_a_team_and_a_user_leaves_their_records(recorded, alice, payments):
    event, audit = recorded
    Team.objects.filter(pk=payments.pk).delete()  # Membership cascades; audit rows are not touched
    get_user_model().objects.filter(pk=alice.pk).delete()
    audit.refresh_from_db()
    assert (audit.team_id, audit.actor_id, audit.actor_name) == (payments.pk, alice.pk, "alice")
    assert TeamEvent.objects.filter(pgh_obj_id=payments.pk).latest("pgh_id").pgh_label == "delete"
