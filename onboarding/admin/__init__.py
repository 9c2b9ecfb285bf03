"""The operators' admin: clusters and policies, teams, topics, schemas, imports, audit, tokens, attempts, access
and notifications.

Every change of desired state goes through ``onboarding.services`` (via=ADMIN, the operator as
actor), so an edit here is validated, audited and reconciled exactly like one from the portal or API.
"""

from django.contrib import admin

from onboarding.admin import (  # noqa: F401 - registers the ModelAdmins
    access,
    aggregations,
    changes,
    clusters,
    connectors,
    event_store,
    groups,
    mappings,
    notifications,
    records,
    schemas,
    teams,
    tokens,
    topics,
)

admin.site.site_header = "Event platform operations"
admin.site.site_title = "Event platform admin"
admin.site.index_title = "Platform operations"
