"""Clusters with their topic and change policies and their teams' quotas."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import flatten
from django.urls import path, reverse
from django.utils.html import format_html

from onboarding.admin.common import VIA, adopt_saved, form_changes
from onboarding.admin.imports import import_topics_view
from onboarding.changes.gate import change_policy_for
from onboarding.changes.requests import change_policy_update
from onboarding.models import ChangePolicy, Cluster, TopicPolicy
from onboarding.models.clusters import TeamQuota
from onboarding.services.clusters import cluster_create, cluster_update, policy_update
from onboarding.services.team_quotas import team_quota_delete, team_quota_save
from onboarding.services.topics import policy_for


class TopicPolicyInline(admin.StackedInline):
    """The policy's own clean() (policies.check_policy_definition) puts its errors next to the fields."""

    model = TopicPolicy
    can_delete = False
    fields = ("name_pattern", ("min_partitions", "max_partitions", "default_partitions"),
              ("allowed_replication_factors", "default_replication_factor"), "config_rules", "default_configs")


class TeamQuotaInline(admin.TabularInline):
    """The cluster's default quota (no team) and the teams' overrides; written through services/team_quotas.py."""

    model = TeamQuota
    extra = 0
    fields = ("team", "max_topics", "max_partitions", "max_disk_bytes", "unlimited_topic_bytes")


def save_team_quotas(request, formset) -> None:
    """Every quota row of an inline through the service (audited), deletions included."""
    formset.save(commit=False)
    for quota in formset.deleted_objects:
        team_quota_delete(actor=request.user, quota=quota, via=VIA)
    for quota_form in formset.forms:
        if quota_form.has_changed() and quota_form not in formset.deleted_forms:
            team_quota_save(actor=request.user, quota=quota_form.instance, via=VIA)


class ChangePolicyInline(admin.StackedInline):
    """Which operations wait for a second person's approval on this cluster (none by default)."""

    model = ChangePolicy
    can_delete = False
    fields = ("operations_needing_approval", "approvers", "request_ttl_hours")


@admin.register(Cluster)
class ClusterAdmin(admin.ModelAdmin):
    list_display = ("name", "environment", "order", "bootstrap_servers", "is_active", "drift_reaction",
                    "last_checked_at", "import_link")
    list_filter = ("environment", "is_active", "drift_reaction")
    search_fields = ("name", "environment", "bootstrap_servers")
    readonly_fields = ("last_checked_at",)
    inlines = [TopicPolicyInline, ChangePolicyInline, TeamQuotaInline]
    fieldsets = (
        (None, {"fields": ("name", "environment", "order", "is_active")}),
        ("Kafka", {"fields": ("bootstrap_servers", "client_bootstrap_servers", "security_protocol", "sasl_mechanism",
                              "sasl_username_ref",
                              "sasl_password_ref", "ssl_ca_location")}),
        ("Schema Registry", {"fields": ("registry_url", "registry_username_ref", "registry_password_ref")}),
        ("Kafka Connect", {"fields": ("connect_url", "connect_allowed_classes")}),
        ("Reconciliation", {"fields": ("reconcile_interval_seconds", "drift_reaction", "last_checked_at")}),
    )

    def get_inlines(self, request, obj):
        # cluster_create gives a new cluster the platform's default policy; operators edit it after saving.
        return self.inlines if obj is not None else []

    def get_urls(self):
        view = self.admin_site.admin_view(lambda request, object_id: import_topics_view(self, request, object_id))
        return [path("<path:object_id>/import-topics/", view, name="onboarding_cluster_import_topics"),
                *super().get_urls()]

    @admin.display(description="Import")
    def import_link(self, obj):
        return format_html('<a href="{}">Import topics</a>',
                           reverse("admin:onboarding_cluster_import_topics", args=[obj.pk]))

    def save_model(self, request, obj, form, change):
        if change:
            adopt_saved(obj, cluster_update(actor=request.user, cluster=obj, via=VIA, **form_changes(form)))
            return
        adopt_saved(obj, cluster_create(actor=request.user, via=VIA, **form.cleaned_data))

    def save_formset(self, request, form, formset, change):
        if formset.model is TeamQuota:
            return save_team_quotas(request, formset)
        if formset.model is ChangePolicy:
            formset.save(commit=False)
            for policy_form in formset.forms:
                if policy_form.has_changed():
                    change_policy_update(actor=request.user, policy=change_policy_for(form.instance), via=VIA,
                                         **{name: policy_form.cleaned_data[name] for name in ChangePolicyInline.fields})
            return None
        if formset.model is not TopicPolicy:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)  # sorts the rows for the admin's change message; policy_update writes them
        fields = set(flatten(TopicPolicyInline.fields))
        for policy_form in formset.forms:
            if not policy_form.has_changed():
                continue
            if policy_form.instance.pk is None:
                # A cluster made without cluster_create has no policy yet: the defaults, then what the form shows.
                policy = policy_for(form.instance)
                changes = {name: value for name, value in policy_form.cleaned_data.items() if name in fields}
            else:
                policy, changes = policy_form.instance, form_changes(policy_form, fields)
            policy_update(actor=request.user, policy=policy, via=VIA, **changes)
