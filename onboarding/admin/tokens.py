"""API tokens: operators see who holds which token and revoke it; the hash never leaves the database."""

from __future__ import annotations

from django.contrib import admin, messages

from onboarding.admin.common import VIA
from onboarding.models import ApiToken
from onboarding.services.tokens import token_revoke


class RevokedFilter(admin.SimpleListFilter):
    title = "revoked"
    parameter_name = "revoked"

    def lookups(self, request, model_admin):
        return [("yes", "Revoked"), ("no", "Not revoked")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(revoked_at__isnull=self.value() == "no")
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "team", "name", "key_id", "scope", "created_by", "created_at", "expires_at", "last_used_at",
                    "revoked_at")
    list_filter = ("scope", RevokedFilter, "team")
    list_select_related = ("user", "team", "created_by")
    search_fields = ("name", "key_id", "user__username", "team__slug", "created_by__username")
    # key_hash is left out on purpose: not shown, not settable.
    fields = ("user", "team", "created_by", "name", "key_id", "scope", "created_at", "expires_at", "last_used_at",
              "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]

    # Tokens are made by `manage.py create_api_token` or the portal, which show the secret once.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request):
        return request.user.has_perm("onboarding.change_apitoken")

    @admin.action(description="Revoke the selected tokens", permissions=["revoke"])
    def revoke(self, request, queryset):
        # token_revoke leaves an already revoked token (and its date) alone and answers False for it.
        revoked = sum(token_revoke(actor=request.user, token=token, via=VIA)
                      for token in queryset.select_related("user", "team"))
        self.message_user(request, f"Revoked {revoked} token(s).", messages.SUCCESS)
