"""The dashboard's teams statement (selectors/dashboard_teams.py) against the rules it stands for, written with
the ORM: the viewer's teams (every team for an operator) by name with the viewer's roles, their live topics by
status, the four first steps and the latest audit records."""

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Count

from onboarding.models import (
    AuditEvent,
    Membership,
    Schema,
    ServiceAccount,
    Subscription,
    Team,
    Topic,
)
from onboarding.permissions import is_operator
from onboarding.selectors.dashboard_teams import FirstSteps, dashboard_teams
from onboarding.services.teams import membership_set, team_create

pytestmark = pytest.mark.django_db


def _topic(cluster, team, name, status="ready"):
    return Topic.objects.create(cluster=cluster, team=team, name=name, partitions=1, replication_factor=1,
                                collision_key=name.replace(".", "_"), status=status)


@pytest.fixture
def world(cluster, payments, clinical, alice, carol, operator):
    research = team_create(actor=None, slug="research", name="Aardvark research")  # first by name
    membership_set(actor=None, team=research, user=alice, role=Membership.Role.VIEWER)
    orders = _topic(cluster, payments, "payments.orders")
    _topic(cluster, payments, "payments.failed", "failed")
    _topic(cluster, payments, "payments.gone", "deleted")
    vitals = _topic(cluster, clinical, "clinical.vitals", "drifted")
    Schema.objects.create(topic=orders, side="value", format="AVRO")
    account = ServiceAccount.objects.create(cluster=cluster, team=clinical, name="reader", username="clinical.reader")
    Subscription.objects.create(subscriber=clinical, source=orders, service_account=account, reason="r",
                                mode=Subscription.Mode.DIRECT)
    for n in range(30):
        AuditEvent.objects.create(actor_name="alice", via="api", action=f"topic.update.{n}", resource_type="topic",
                                  resource_id=str(vitals.pk), resource_name=vitals.name,
                                  team=(payments, clinical, research)[n % 3])


def _expected(user):
    if is_operator(user):
        teams = list(Team.objects.order_by("name", "pk"))
    else:
        teams = [m.team for m in Membership.objects.filter(user=user).select_related("team")
                 .order_by("team__name", "team_id")]
    ids = [t.pk for t in teams]
    counts = {pk: {} for pk in ids}
    for row in (Topic.objects.filter(team_id__in=ids).exclude(status="deleted").values("team_id", "status")
                .annotate(n=Count("id")).order_by()):
        counts[row["team_id"]][row["status"]] = row["n"]
    steps = {t.pk: FirstSteps(
        ServiceAccount.objects.filter(team=t).exclude(status="deleted").exists(),
        Topic.objects.filter(team=t).exclude(status="deleted").order_by("pk").values_list("pk", flat=True).first(),
        Schema.objects.filter(topic__team=t).exclude(status="deleted").exists(),
        Subscription.objects.filter(subscriber=t).exclude(status="deleted").exists()) for t in teams}
    return {"teams": [(t.pk, t.slug, t.name, t.contacts) for t in teams],
            "roles": dict(Membership.objects.filter(user=user).values_list("team_id", "role")),
            "counts": counts, "first_steps": steps,
            "activity": list(AuditEvent.objects.filter(team_id__in=ids).values_list("pk", flat=True)[:25])}


@pytest.mark.parametrize("who", ["alice", "carol", "operator"])
def test_the_teams_roles_counts_steps_and_activity_are_those_of_the_rules(world, who, request):
    user = get_user_model().objects.get(pk=request.getfixturevalue(who).pk)

    shown = dashboard_teams(user)

    assert {"teams": [(t.pk, t.slug, t.name, t.contacts) for t in shown.teams], "roles": shown.roles,
            "counts": shown.counts, "first_steps": shown.first_steps,
            "activity": [event.pk for event in shown.activity]} == _expected(user)


def test_the_activity_carries_what_the_dashboard_shows_without_another_query(world, alice,
                                                                             django_assert_num_queries):
    shown = dashboard_teams(alice)

    with django_assert_num_queries(0):
        rows = [(e.at.tzinfo is not None, e.team.slug, e.actor_name, e.via, e.action, e.resource_type,
                 e.resource_name) for e in shown.activity]
    assert rows[0][:2] == (True, "research") and rows[0][4] == "topic.update.29"
