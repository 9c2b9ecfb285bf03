"""Service accounts and subscriptions: operators read them and decide on subscriptions through the services.

Service accounts are created in the portal or the API, where the password is shown once; the admin
never shows (nor lets anyone type) a secret, and their status fields are read-only.
"""

from __future__ import annotations

from django.contrib import admin, messages

from onboarding.admin.common import VIA, ReconciledDisplay, run_per_object
from onboarding.models import ChangeRequest, ServiceAccount, Subscription
from onboarding.services.service_account_quotas import QUOTA_FIELDS, service_account_set_quota
from onboarding.services.service_accounts import service_account_update
from onboarding.services.service_accounts_drift import (
    service_account_adopt,
    service_account_revert,
    subscription_adopt,
    subscription_revert,
)
from onboarding.services.subscriptions import subscription_approve, subscription_reject, subscription_revoke

RECONCILE_FIELDS = ("status", "generation", "observed_generation", "last_error", "failures", "next_attempt_at",
                    "ready_at", "delete_requested_at", "deleted_at", "created_at", "updated_at")


@admin.register(ServiceAccount)
class ServiceAccountAdmin(ReconciledDisplay, admin.ModelAdmin):
    list_display = ("username", "team", "cluster", "status_badge", "can_consume_own_topics", "secret_set_at",
                    "created_at")
    list_filter = ("status", "cluster", "team", "can_consume_own_topics")
    list_select_related = ("team", "cluster")
    search_fields = ("username", "name", "description")
    actions = ["revert_drift", "adopt_drift", "allow_consuming", "produce_only"]
    # pending_secret is never listed here, so it is neither shown nor editable.
    fields = ("username", "team", "cluster", "name", "description", "can_consume_own_topics", "acl_exceptions",
              *QUOTA_FIELDS, "secret_set_at", "status_badge", *RECONCILE_FIELDS[1:4], "drift", "observed",
              *RECONCILE_FIELDS[4:])
    # Only the client quotas are typed here; save_model hands them to their service.
    readonly_fields = tuple(name for name in fields if name not in QUOTA_FIELDS)

    def has_add_permission(self, request):
        return False  # the portal creates them, so that the password is shown once to the team

    def has_delete_permission(self, request, obj=None):
        return False  # deleting removes the credential and ACLs: done through the service

    def save_model(self, request, obj, form, change):
        # Everything else is read-only or changed through the actions.
        if change and set(form.changed_data) & set(QUOTA_FIELDS):
            outcome = service_account_set_quota(actor=request.user, sa=ServiceAccount.objects.get(pk=obj.pk), via=VIA,
                                                **{name: form.cleaned_data[name] for name in QUOTA_FIELDS})
            if isinstance(outcome, ChangeRequest):
                messages.info(request, f"The cluster gates quota changes: change request #{outcome.pk} is waiting "
                                       "for approval.")

    @admin.action(description="Revert ACL drift (put back the portal's standard ACLs)", permissions=["change"])
    def revert_drift(self, request, queryset):
        run_per_object(self, request, queryset, done="Reverting the ACLs of {count} service account(s).",
                       call=lambda sa: service_account_revert(actor=request.user, sa=sa, via=VIA))

    @admin.action(description="Adopt ACL drift (the cluster's ACLs become desired)", permissions=["change"])
    def adopt_drift(self, request, queryset):
        run_per_object(self, request, queryset, done="Adopted the cluster's ACLs for {count} service account(s).",
                       call=lambda sa: service_account_adopt(actor=request.user, sa=sa, via=VIA))

    @admin.action(description="Allow consuming the team's own topics", permissions=["change"])
    def allow_consuming(self, request, queryset):
        run_per_object(self, request, queryset, done="{count} service account(s) may consume their team's topics.",
                       call=lambda sa: service_account_update(actor=request.user, sa=sa, via=VIA,
                                                              can_consume_own_topics=True))

    @admin.action(description="Produce only (no READ on the team's own topics)", permissions=["change"])
    def produce_only(self, request, queryset):
        run_per_object(self, request, queryset, done="{count} service account(s) now only produce.",
                       call=lambda sa: service_account_update(actor=request.user, sa=sa, via=VIA,
                                                              can_consume_own_topics=False))


@admin.register(Subscription)
class SubscriptionAdmin(ReconciledDisplay, admin.ModelAdmin):
    list_display = ("__str__", "source", "subscriber", "mode", "decision", "status_badge", "requested_by",
                    "created_at")
    list_filter = ("decision", "status", "mode", "source__cluster")
    list_select_related = ("source", "subscriber", "requested_by", "service_account", "destination")
    search_fields = ("source__name", "subscriber__slug", "service_account__username", "destination__name", "reason")
    actions = ["approve", "reject", "revoke", "revert_drift", "adopt_drift"]
    fieldsets = (
        (None, {"fields": ("source", "subscriber", "service_account", "mode", "destination", "destination_name",
                           "filter", "reason")}),
        ("Decision", {"fields": ("decision", "requested_by", "decided_by", "decided_at", "decision_comment")}),
        ("Apply", {"fields": ("status_badge", *RECONCILE_FIELDS[1:], "drift", "observed")}),
    )
    readonly_fields = [name for _, spec in fieldsets for name in spec["fields"]]

    def has_add_permission(self, request):
        return False  # subscriptions are requested by the subscribing team

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the reconciler removes what was applied

    def save_model(self, request, obj, form, change):
        # Everything else is read-only or changed through the actions.
        if change and set(form.changed_data) & set(QUOTA_FIELDS):
            outcome = service_account_set_quota(actor=request.user, sa=ServiceAccount.objects.get(pk=obj.pk), via=VIA,
                                                **{name: form.cleaned_data[name] for name in QUOTA_FIELDS})
            if isinstance(outcome, ChangeRequest):
                messages.info(request, f"The cluster gates quota changes: change request #{outcome.pk} is waiting "
                                       "for approval.")

    @admin.action(description="Approve the selected requests", permissions=["change"])
    def approve(self, request, queryset):
        run_per_object(self, request, queryset, done="Approved {count} subscription(s).",
                       call=lambda sub: subscription_approve(actor=request.user, subscription=sub, via=VIA))

    @admin.action(description="Reject the selected requests", permissions=["change"])
    def reject(self, request, queryset):
        run_per_object(self, request, queryset, done="Rejected {count} subscription request(s).",
                       call=lambda sub: subscription_reject(actor=request.user, subscription=sub, via=VIA))

    @admin.action(description="Revert ACL drift (put the subscription's ACLs back)", permissions=["change"])
    def revert_drift(self, request, queryset):
        run_per_object(self, request, queryset, done="Reverting the ACLs of {count} subscription(s).",
                       call=lambda sub: subscription_revert(actor=request.user, subscription=sub, via=VIA))

    @admin.action(description="Adopt ACL drift (the cluster's ACLs become desired)", permissions=["change"])
    def adopt_drift(self, request, queryset):
        run_per_object(self, request, queryset, done="Adopted the cluster's ACLs for {count} subscription(s).",
                       call=lambda sub: subscription_adopt(actor=request.user, subscription=sub, via=VIA))

    @admin.action(description="Revoke the selected subscriptions", permissions=["change"])
    def revoke(self, request, queryset):
        run_per_object(self, request, queryset, done="Revoked {count} subscription(s).",
                       call=lambda sub: subscription_revoke(actor=request.user, subscription=sub, via=VIA))
