from onboarding.models.access import ServiceAccount, Subscription
from onboarding.models.apply import ApplyAttempt
from onboarding.models.audit import AuditEvent
from onboarding.models.catalog import CatalogEntry, SchemaField
from onboarding.models.clusters import Cluster, TopicPolicy
from onboarding.models.reconciled import ResourceStatus
from onboarding.models.schemas import Compatibility, Schema, SchemaFormat, SchemaVersion
from onboarding.models.teams import Membership, Team
from onboarding.models.tokens import ApiToken
from onboarding.models.topics import Topic

__all__ = [
    "ApiToken", "ApplyAttempt", "AuditEvent", "CatalogEntry", "Cluster", "Compatibility", "Membership",
    "ResourceStatus", "Schema", "SchemaField", "SchemaFormat", "SchemaVersion", "ServiceAccount", "Subscription",
    "Team", "Topic", "TopicPolicy",
]
