"""Webhooks and the notification log.

Operators change a webhook's name, URL, events and active flag through the webhook services
(validated and audited like the portal's edits) and delete through them. Adding and rotating happen in
the portal or API, where the signing secret is shown once to the team; the admin never shows it. The
delivery log is read-only.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from onboarding.admin.common import REFUSALS, VIA, ReadOnlyAdmin, adopt_saved, form_changes, refusal_text
from onboarding.forms.webhooks import EVENT_CHOICES
from onboarding.models import NotificationDelivery, Webhook
from onboarding.notifications.webhooks import validate_webhook, webhook_delete, webhook_update


class WebhookAdminForm(forms.ModelForm):
    events = forms.MultipleChoiceField(choices=EVENT_CHOICES, widget=forms.CheckboxSelectMultiple, required=False)

    class Meta:
        model = Webhook
        fields = ("name", "url", "events", "is_active")

    def clean(self):
        """The service's rules, shown next to the fields before anything is saved."""
        data = super().clean()
        try:
            validate_webhook((data.get("name") or "").strip(), (data.get("url") or "").strip(),
                             data.get("events") or [])
        except ValidationError as exc:
            for field, texts in exc.message_dict.items():
                for text in texts:
                    self.add_error(field, text)
        return data


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    form = WebhookAdminForm
    list_display = ("name", "team", "url", "is_active", "created_by", "created_at")
    list_filter = ("is_active", "team")
    list_select_related = ("team", "created_by")
    search_fields = ("name", "url", "team__slug")
    readonly_fields = ("team", "created_by", "created_at", "updated_at", "secret_rotated_at")
    fields = ("team", "name", "url", "events", "is_active", *readonly_fields[1:])
    actions = ["delete_through_service"]

    def has_add_permission(self, request):
        return False  # added in the portal or API, where the signing secret is shown once to the team

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deletion goes through the service (audit, waiting deliveries)
        return actions

    def save_model(self, request, obj, form, change):
        try:
            saved = webhook_update(actor=request.user, webhook=obj, via=VIA,
                                   **form_changes(form, ("name", "url", "events", "is_active")))
        except REFUSALS as exc:
            self.message_user(request, refusal_text(exc), messages.ERROR)
            return
        adopt_saved(obj, saved)

    def delete_model(self, request, obj):
        webhook_delete(actor=request.user, webhook=obj, via=VIA)

    @admin.action(description="Delete the selected webhooks", permissions=["delete"])
    def delete_through_service(self, request, queryset):
        for hook in queryset.select_related("team"):
            webhook_delete(actor=request.user, webhook=hook, via=VIA)
        self.message_user(request, "Deleted the selected webhooks; their delivery logs stay.", messages.SUCCESS)


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "team", "channel", "event", "recipient", "status", "attempts", "last_status_code",
                    "delivered_at")
    list_filter = ("status", "channel", "event", "team")
    list_select_related = ("team", "webhook")
    search_fields = ("recipient", "subject", "last_error", "team__slug")
    date_hierarchy = "created_at"
