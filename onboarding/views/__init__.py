"""Browser views: each one serves its full page or, for htmx, the fragment the request targets."""

from onboarding.views.home import home
from onboarding.views.imports import import_view
from onboarding.views.schemas import (
    schema_check_view,
    schema_compare_view,
    schema_compatibility_view,
    schema_event_view,
    schema_page,
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
    "home", "import_view", "schema_check_view", "schema_compare_view", "schema_compatibility_view",
    "schema_event_view", "schema_page", "topic_adopt_view", "topic_create_view", "topic_delete_view", "topic_detail",
    "topic_edit_validate", "topic_edit_view", "topic_list", "topic_revert_view", "topic_validate",
]
