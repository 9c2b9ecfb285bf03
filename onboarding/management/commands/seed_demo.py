"""Demo data for a local portal: an operator, two teams with an owner each, the local cluster."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from onboarding.models import Cluster, Membership, Team
from onboarding.services.clusters import cluster_create
from onboarding.services.teams import membership_set, team_create

USERS = [
    ("operator", "operator-demo-password", True),
    ("alice", "alice-demo-password", False),
    ("bob", "bob-demo-password", False),
]
TEAMS = [
    ("payments", "Payments", "Card and invoice payments.", "payments@example.org, #payments", "alice"),
    ("clinical", "Clinical systems", "Admissions, wards and lab results.", "clinical@example.org", "bob"),
]


class Command(BaseCommand):
    help = "Create the demo accounts, teams and the local cluster (idempotent)."

    def handle(self, *args, **options):
        User = get_user_model()
        for username, password, operator in USERS:
            user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.org"})
            if created:
                user.set_password(password)
                user.is_staff = user.is_superuser = operator
                user.save()
        for slug, name, description, contacts, owner in TEAMS:
            team = Team.objects.filter(slug=slug).first() or team_create(
                actor=None, slug=slug, name=name, description=description, contacts=contacts)
            if not Membership.objects.filter(team=team, user__username=owner).exists():
                membership_set(actor=None, team=team, user=User.objects.get(username=owner),
                               role=Membership.Role.OWNER)
        if not Cluster.objects.filter(name="local").exists():
            cluster_create(actor=None, name="local", environment="dev",
                           bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS,
                           registry_url=settings.SCHEMA_REGISTRY_URL, reconcile_interval_seconds=30)
        self.stdout.write("Demo data ready: operator, alice (payments owner), bob (clinical owner), cluster 'local'.")
