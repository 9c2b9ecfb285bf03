"""Read queries shared by the browser views and the API, one module per resource.

The package re-exports every selector, so callers write ``selectors.topic_for(...)``.
"""

from onboarding.selectors.accounts import service_account_for, service_accounts_visible_to
from onboarding.selectors.aggregations import (
    aggregation_for,
    aggregation_sources_for,
    aggregations_of_source,
    aggregations_of_team,
    aggregations_visible_to,
)
from onboarding.selectors.changes import change_request_for, change_requests_awaiting, change_requests_visible_to
from onboarding.selectors.connectors import connector_for, connectors_of_team, connectors_visible_to
from onboarding.selectors.notifications import deliveries_visible_to, webhook_for, webhooks_visible_to
from onboarding.selectors.schemas import schema_for, schema_version, schemas_visible_to
from onboarding.selectors.subscriptions import (
    pending_approvals_for,
    subscription_for,
    subscriptions_for_team,
    subscriptions_visible_to,
)
from onboarding.selectors.teams import (
    cluster_named,
    clusters_with_policies,
    in_users_teams,
    team_with_slug,
    teams_of,
    teams_with_members_of,
    writable_teams_of,
)
from onboarding.selectors.tokens import (
    api_token_with_key_id,
    personal_tokens_of,
    team_tokens_of,
    token_for,
    tokens_manageable_by,
)
from onboarding.selectors.topics import (
    topic_attempts,
    topic_for,
    topic_producers,
    topic_readers,
    topic_schemas_with_fields,
    topic_table_rows,
    topics_visible_to,
)
from onboarding.selectors.traffic import subscription_lag, subscription_traffic

__all__ = [
    "aggregation_for",
    "aggregation_sources_for",
    "aggregations_of_source",
    "aggregations_of_team",
    "aggregations_visible_to",
    "connector_for",
    "connectors_of_team",
    "connectors_visible_to",
    "api_token_with_key_id",
    "change_request_for",
    "change_requests_awaiting",
    "change_requests_visible_to",
    "cluster_named",
    "clusters_with_policies",
    "deliveries_visible_to",
    "in_users_teams",
    "pending_approvals_for",
    "personal_tokens_of",
    "schema_for",
    "schema_version",
    "schemas_visible_to",
    "service_account_for",
    "service_accounts_visible_to",
    "subscription_for",
    "subscription_lag",
    "subscription_traffic",
    "subscriptions_for_team",
    "subscriptions_visible_to",
    "team_tokens_of",
    "team_with_slug",
    "teams_of",
    "teams_with_members_of",
    "token_for",
    "tokens_manageable_by",
    "topic_attempts",
    "topic_for",
    "topic_producers",
    "topic_readers",
    "topic_schemas_with_fields",
    "topic_table_rows",
    "topics_visible_to",
    "webhook_for",
    "webhooks_visible_to",
    "writable_teams_of",
]
