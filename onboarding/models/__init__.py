from onboarding.models.access import ServiceAccount, Subscription
from onboarding.models.aggregation_runtime import AggregationRuntime
from onboarding.models.aggregations import Aggregation
from onboarding.models.apply import ApplyAttempt
from onboarding.models.audit import AuditEvent
from onboarding.models.catalogue import CatalogEntry, SchemaField
from onboarding.models.changes import GATED_OPERATIONS, ChangePolicy, ChangeRequest
from onboarding.models.clusters import Cluster, TopicPolicy
from onboarding.models.connectors import Connector
from onboarding.models.event_store import EventStoreBinding
from onboarding.models.groups import LagSample, OffsetReset
from onboarding.models.mappings import CanonicalTopic, CodeTable, CodeTableVersion, Mapping, MappingVersion
from onboarding.models.notifications import NotificationDelivery, NotificationEvent, Webhook
from onboarding.models.reconciled import ResourceStatus
from onboarding.models.schemas import Compatibility, Schema, SchemaFormat, SchemaVersion
from onboarding.models.sensitivity import SensitiveField
from onboarding.models.teams import Membership, Team
from onboarding.models.tokens import ApiToken
from onboarding.models.topics import Topic
from onboarding.models.traffic import TopicTrafficSample

__all__ = [
    "GATED_OPERATIONS", "Aggregation", "AggregationRuntime", "ApiToken", "ApplyAttempt", "AuditEvent",
    "CanonicalTopic", "CatalogEntry", "ChangePolicy", "ChangeRequest", "Cluster", "CodeTable", "CodeTableVersion",
    "Compatibility", "Connector", "EventStoreBinding", "LagSample", "Mapping", "MappingVersion", "Membership",
    "NotificationDelivery", "NotificationEvent", "OffsetReset", "ResourceStatus", "Schema", "SchemaField",
    "SchemaFormat", "SchemaVersion", "SensitiveField", "ServiceAccount", "Subscription", "Team", "Topic",
    "TopicPolicy", "TopicTrafficSample", "Webhook",
]
