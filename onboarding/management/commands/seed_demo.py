"""Demo data for a local portal: an operator, two teams with an owner each, the local dev cluster and,
when the stack's second broker and registry are configured, the prod cluster it promotes to."""

import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from onboarding.changes.gate import change_policy_for
from onboarding.changes.requests import change_policy_update
from onboarding.models import GATED_OPERATIONS, AuditEvent, Cluster, Membership, Team
from onboarding.services.clusters import cluster_create, cluster_update
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
    help = "Create the demo accounts, teams and the local dev and prod clusters (idempotent)."

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
            dev = cluster_create(actor=None, name="local", environment="dev",
                                 bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS,
                                 client_bootstrap_servers=os.environ.get("KAFKA_SASL_BOOTSTRAP_SERVERS", ""),
                                 registry_url=settings.SCHEMA_REGISTRY_URL, reconcile_interval_seconds=30)
            # Deletes lose data: even in dev a second person agrees to them.
            self._gate(dev, ["topic.delete"])
        self._client_listener("local", "KAFKA_SASL_BOOTSTRAP_SERVERS")
        self._connect_classes("local")
        clusters = "cluster 'local'"
        if self._seed_prod_cluster():
            clusters = "clusters 'local' (dev) and 'local-prod' (prod)"
        self.stdout.write(f"Demo data ready: operator, alice (payments owner), bob (clinical owner), {clusters}.")

    def _seed_prod_cluster(self) -> bool:
        """The production cluster, next after 'local' in the promotion path; only when its endpoints are set."""
        if not (settings.KAFKA_PROD_BOOTSTRAP_SERVERS and settings.SCHEMA_REGISTRY_PROD_URL):
            self.stdout.write("Skipping cluster 'local-prod': KAFKA_PROD_BOOTSTRAP_SERVERS and "
                              "SCHEMA_REGISTRY_PROD_URL are not both set (scripts/stack up writes them).")
            return False
        if not Cluster.objects.filter(name="local-prod").exists():
            prod = cluster_create(actor=None, name="local-prod", environment="prod", order=1,
                                  bootstrap_servers=settings.KAFKA_PROD_BOOTSTRAP_SERVERS,
                                  client_bootstrap_servers=os.environ.get("KAFKA_PROD_SASL_BOOTSTRAP_SERVERS", ""),
                                  registry_url=settings.SCHEMA_REGISTRY_PROD_URL, reconcile_interval_seconds=30)
            self._gate(prod, list(GATED_OPERATIONS))  # every change in production is reviewed
        self._client_listener("local-prod", "KAFKA_PROD_SASL_BOOTSTRAP_SERVERS")
        return True

    @staticmethod
    def _connect_classes(name: str) -> None:
        """The stack's Connect worker (CONNECT_URL) carries the MongoDB sink: teams of the demo may run it."""
        cluster = Cluster.objects.filter(name=name, connect_allowed_classes=[]).first()
        if settings.CONNECT_URL and cluster is not None:
            cluster_update(actor=None, cluster=cluster, via=AuditEvent.Via.SYSTEM,
                           connect_allowed_classes=["com.mongodb.kafka.connect.MongoSinkConnector"])

    @staticmethod
    def _client_listener(name: str, variable: str) -> None:
        """The SASL listener the stack exports, for clusters seeded before the field existed."""
        address = os.environ.get(variable, "")
        cluster = Cluster.objects.filter(name=name, client_bootstrap_servers="").first()
        if address and cluster is not None:
            cluster_update(actor=None, cluster=cluster, via=AuditEvent.Via.SYSTEM, client_bootstrap_servers=address)

    @staticmethod
    def _gate(cluster: Cluster, operations: list[str]) -> None:
        operator = get_user_model().objects.get(username="operator")
        change_policy_update(actor=operator, policy=change_policy_for(cluster), via=AuditEvent.Via.SYSTEM,
                             operations_needing_approval=operations)
