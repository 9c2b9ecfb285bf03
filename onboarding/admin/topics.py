"""Topics: operators inspect status and drift, re-apply, decide about drift and edit through topic_update."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from onboarding.admin.common import VIA, ReconciledDisplay, change_request_message, run_per_object
from onboarding.models import ApplyAttempt, Cluster, Topic
from onboarding.services.topics import topic_apply_now, topic_update, topic_update_errors
from onboarding.services.topics_drift import topic_adopt, topic_revert

# What topic_update may change; name, team, cluster and replication factor are fixed once created.
EDITABLE = ("partitions", "configs", "description", "tags", "visibility", "drift_reaction",
            "subscriptions_need_approval")
RECENT_ATTEMPTS = 20


class TopicChangeForm(forms.ModelForm):
    """Validated by topic_update_errors, so the admin shows the same errors as the portal and the API."""

    # The generation the operator looked at: a change saved meanwhile is refused (Conflict), not overwritten.
    expected_generation = forms.IntegerField(widget=forms.HiddenInput)
    actor = None  # set per request by TopicAdmin.get_form

    class Meta:
        model = Topic
        fields = EDITABLE

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("expected_generation", self.instance.generation)

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data if name in EDITABLE}

    def update(self) -> Topic:
        return topic_update(actor=self.actor, topic=self.instance, via=VIA,
                            expected_generation=self.cleaned_data["expected_generation"], **self.changes())

    def clean(self):
        cleaned = super().clean()
        if self.errors or not self.changes():
            return cleaned
        # self.instance is still the row as loaded for this request: ModelForm copies the input onto it later.
        errors = topic_update_errors(topic=self.instance, expected_generation=cleaned["expected_generation"],
                                     **self.changes())
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
        return cleaned


class RecentAttemptsFormSet(BaseInlineFormSet):
    def get_queryset(self):
        # Sliced after the inline's filter on the topic; a topic retried for days has thousands.
        return super().get_queryset().select_related("schema__topic")[:RECENT_ATTEMPTS]


class ApplyAttemptInline(admin.TabularInline):
    model = ApplyAttempt
    formset = RecentAttemptsFormSet
    verbose_name_plural = f"Apply attempts (newest {RECENT_ATTEMPTS})"
    # schema: set when the attempt applied one of the topic's registry subjects rather than the topic.
    fields = ("started_at", "schema", "generation", "outcome", "duration_ms", "error", "actions", "run_id")
    readonly_fields = fields
    ordering = ("-started_at", "-id")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Topic)
class TopicAdmin(ReconciledDisplay, admin.ModelAdmin):
    form = TopicChangeForm
    list_display = ("name", "team", "cluster", "status_badge", "generations", "updated_at")
    list_filter = ("status", "cluster", "team", "visibility")
    list_select_related = ("team", "cluster")
    search_fields = ("name", "description", "tags")
    actions = ["apply_now", "revert_drift", "adopt_drift"]
    inlines = [ApplyAttemptInline]
    readonly_fields = (
        "name", "team", "cluster", "replication_factor", "status_badge", "generation", "observed_generation",
        "last_error", "failures", "next_attempt_at", "ready_at", "drift", "observed", "claim_token", "claimed_at",
        "claimed_generation", "created_at", "updated_at", "delete_requested_at", "deleted_at", "attempt_history",
    )
    fieldsets = (
        (None, {"fields": ("name", "team", "cluster", "replication_factor", "expected_generation")}),
        ("Desired state", {"fields": EDITABLE}),
        ("Reconciliation", {"fields": ("status_badge", ("generation", "observed_generation"), "last_error",
                                       ("failures", "next_attempt_at"), "ready_at", "attempt_history")}),
        ("Drift", {"fields": ("drift", "observed")}),
        ("Claim", {"classes": ("collapse",), "fields": ("claim_token", "claimed_at", "claimed_generation")}),
        ("Lifecycle", {"classes": ("collapse",),
                       "fields": ("created_at", "updated_at", "delete_requested_at", "deleted_at")}),
    )

    # Topics are created in the portal or the API, or imported from a cluster (see ClusterAdmin).
    def has_add_permission(self, request):
        return False

    # Deleting removes the topic from Kafka: a confirmed two-step action in the portal, never a row delete.
    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.actor = request.user  # modelform_factory built a fresh class for this request
        return form

    def save_model(self, request, obj, form, change):
        if form.changes() and change_request_message(self, request, form.update()):
            obj.refresh_from_db()

    def changelist_view(self, request, extra_context=None):
        clusters = Cluster.objects.filter(is_active=True)
        return super().changelist_view(request, {"import_clusters": clusters, **(extra_context or {})})

    @admin.display(description="history")
    def attempt_history(self, obj):
        url = reverse("admin:onboarding_applyattempt_changelist") + "?" + urlencode({"topic__id__exact": obj.pk})
        return format_html('<a href="{}">All apply attempts</a>', url)

    @admin.action(description="Apply now (skip the retry backoff)", permissions=["change"])
    def apply_now(self, request, queryset):
        run_per_object(self, request, queryset, done="Queued {count} topic(s) for reconciliation.",
                       call=lambda topic: topic_apply_now(actor=request.user, topic=topic, via=VIA))

    @admin.action(description="Revert drift (make the cluster match the portal)", permissions=["change"])
    def revert_drift(self, request, queryset):
        run_per_object(self, request, queryset, done="Reverting the drift of {count} topic(s).",
                       call=lambda topic: topic_revert(actor=request.user, topic=topic, via=VIA))

    @admin.action(description="Adopt drift (take what the cluster has)", permissions=["change"])
    def adopt_drift(self, request, queryset):
        run_per_object(self, request, queryset, done="Adopted the cluster's state for {count} topic(s).",
                       call=lambda topic: topic_adopt(actor=request.user, topic=topic, via=VIA))
