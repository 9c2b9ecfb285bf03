"""Browser views: each one serves its full page or, for htmx, the fragment the request targets."""

from onboarding.views.catalogue import catalogue_view
from onboarding.views.home import home
from onboarding.views.imports import import_view
from onboarding.views.schemas import (
    schema_check_view,
    schema_compare_view,
    schema_compatibility_view,
    schema_event_view,
    schema_page,
)
from onboarding.views.service_accounts import (
    service_account_delete_view,
    service_account_list,
    service_account_rotate_view,
)
from onboarding.views.subscriptions import (
    access_view,
    filter_test_view,
    subscribe_view,
    subscription_approve_view,
    subscription_detail,
    subscription_filter_view,
    subscription_reject_view,
    subscription_revoke_view,
)
from onboarding.views.topic_forms import (
    topic_create_view,
    topic_delete_view,
    topic_edit_validate,
    topic_edit_view,
    topic_validate,
)
from onboarding.views.topics import topic_adopt_view, topic_detail, topic_list, topic_revert_view

__all__ = [
    "access_view", "catalogue_view", "filter_test_view", "service_account_delete_view", "service_account_list",
    "service_account_rotate_view", "subscribe_view", "subscription_approve_view", "subscription_detail",
    "subscription_filter_view", "subscription_reject_view", "subscription_revoke_view",
    "home", "import_view", "schema_check_view", "schema_compare_view", "schema_compatibility_view",
    "schema_event_view", "schema_page", "topic_adopt_view", "topic_create_view", "topic_delete_view", "topic_detail",
    "topic_edit_validate", "topic_edit_view", "topic_list", "topic_revert_view", "topic_validate",
]
