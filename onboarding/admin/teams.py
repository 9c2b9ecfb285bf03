"""Teams and their members."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import Count

from onboarding.admin.common import VIA, adopt_saved, audit_form_change
from onboarding.models import Membership, Team
from onboarding.services.audit import audit_record
from onboarding.services.teams import membership_set, team_create


def _membership_remove(*, actor, membership: Membership) -> None:
    # The services have no removal yet; until they do, keep the same audit trail membership_set writes.
    with transaction.atomic():
        audit_record(actor=actor, via=VIA, action="membership.remove", obj=membership, team=membership.team,
                     before={"user": membership.user.get_username(), "role": membership.role})
        membership.delete()


class MembershipInlineForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # membership_set finds the row by (user, team): changing the person would add a second row.
            self.fields["user"].disabled = True


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipInlineForm
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "member_count", "topic_count", "created_at")
    search_fields = ("slug", "name", "description", "contacts")
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            members=Count("memberships", distinct=True), topic_total=Count("topics", distinct=True))

    def get_readonly_fields(self, request, obj=None):
        # The slug is part of every topic name the team owns (the policy's {team}); renaming would orphan them.
        return ("slug", "created_at") if obj else ("created_at",)

    @admin.display(description="members", ordering="members")
    def member_count(self, obj):
        return obj.members

    @admin.display(description="topics", ordering="topic_total")
    def topic_count(self, obj):
        return obj.topic_total

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            audit_form_change(request=request, form=form, action="team.update", team=obj)
            return
        adopt_saved(obj, team_create(actor=request.user, via=VIA, **form.cleaned_data))

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)  # sorts rows into new, changed and deleted; the services write them
        for membership in formset.deleted_objects:
            _membership_remove(actor=request.user, membership=membership)
        for membership in [*formset.new_objects, *(m for m, _ in formset.changed_objects)]:
            membership_set(actor=request.user, team=form.instance, user=membership.user, role=membership.role,
                           via=VIA)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "team", "role", "created_at")
    list_filter = ("role", "team")
    list_select_related = ("user", "team")
    search_fields = ("user__username", "user__email", "team__slug", "team__name")
    autocomplete_fields = ("user", "team")

    def get_readonly_fields(self, request, obj=None):
        return ("user", "team", "created_at") if obj else ("created_at",)

    def save_model(self, request, obj, form, change):
        adopt_saved(obj, membership_set(actor=request.user, team=obj.team, user=obj.user, role=obj.role, via=VIA))

    def delete_model(self, request, obj):
        _membership_remove(actor=request.user, membership=obj)

    def delete_queryset(self, request, queryset):
        for membership in queryset.select_related("user", "team"):
            _membership_remove(actor=request.user, membership=membership)
