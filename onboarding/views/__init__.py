"""Browser views: each one serves its full page or, for htmx, the fragment the request targets."""

from onboarding.views.aggregations import (
    aggregation_create_view,
    aggregation_delete_view,
    aggregation_detail,
    aggregation_edit_validate,
    aggregation_edit_view,
    aggregation_list,
    aggregation_validate,
)
from onboarding.views.catalogue import catalogue_view
from onboarding.views.changes import (
    change_request_approve_view,
    change_request_detail,
    change_request_list,
    change_request_refresh_view,
    change_request_reject_view,
    change_request_withdraw_view,
    topic_promote_view,
)
from onboarding.views.home import home
from onboarding.views.imports import import_view
from onboarding.views.peek import topic_peek_view
from onboarding.views.schemas import (
    schema_check_view,
    schema_compare_view,
    schema_compatibility_view,
    schema_event_view,
    schema_page,
)
from onboarding.views.service_accounts import (
    service_account_adopt_view,
    service_account_delete_view,
    service_account_list,
    service_account_revert_view,
    service_account_rotate_view,
)
from onboarding.views.subscriptions import (
    access_view,
    filter_test_view,
    subscribe_view,
    subscription_approve_view,
    subscription_detail,
    subscription_drift_adopt_view,
    subscription_drift_revert_view,
    subscription_filter_view,
    subscription_reject_view,
    subscription_revoke_view,
)
from onboarding.views.teams import member_remove_view, member_role_view, team_detail, team_list, team_members
from onboarding.views.tokens import team_token_list, token_list, token_revoke_view
from onboarding.views.topic_edit import (
    topic_create_view,
    topic_delete_view,
    topic_edit_validate,
    topic_edit_view,
    topic_validate,
)
from onboarding.views.topic_fields import sensitive_field_view
from onboarding.views.topics import topic_adopt_view, topic_detail, topic_list, topic_retry_view, topic_revert_view
from onboarding.views.webhooks import (
    webhook_delete_view,
    webhook_emails_view,
    webhook_list,
    webhook_rotate_view,
    webhook_test_view,
)

__all__ = [
    "aggregation_create_view", "aggregation_delete_view", "aggregation_detail", "aggregation_edit_validate",
    "aggregation_edit_view", "aggregation_list", "aggregation_validate",
    "change_request_approve_view", "change_request_detail", "change_request_list", "change_request_refresh_view",
    "change_request_reject_view", "change_request_withdraw_view", "topic_promote_view",
    "access_view", "catalogue_view", "filter_test_view", "service_account_adopt_view", "service_account_delete_view",
    "service_account_list", "service_account_revert_view", "subscription_drift_adopt_view",
    "subscription_drift_revert_view",
    "service_account_rotate_view", "subscribe_view", "subscription_approve_view", "subscription_detail",
    "subscription_filter_view", "subscription_reject_view", "subscription_revoke_view",
    "home", "import_view", "schema_check_view", "schema_compare_view", "schema_compatibility_view",
    "schema_event_view", "schema_page", "sensitive_field_view", "topic_peek_view",
    "topic_adopt_view", "topic_create_view", "topic_delete_view", "topic_detail",
    "topic_edit_validate", "topic_edit_view", "topic_list", "topic_retry_view", "topic_revert_view", "topic_validate",
    "webhook_delete_view", "webhook_emails_view", "webhook_list", "webhook_rotate_view", "webhook_test_view",
    "member_remove_view", "member_role_view", "team_detail", "team_list", "team_members", "team_token_list",
    "token_list", "token_revoke_view",
]
