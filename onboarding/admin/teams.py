"""Teams and their members."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.urls import reverse

from onboarding.admin.clusters import save_team_quotas
from onboarding.admin.common import REFUSALS, VIA, adopt_saved, form_changes, refusal_text, run_per_object
from onboarding.models import Membership, Team
from onboarding.models.clusters import TeamQuota
from onboarding.services.teams import (
    last_owner_problem,
    membership_remove,
    membership_set,
    team_create,
    team_notification_emails_set,
    team_update,
)

OWNER = Membership.Role.OWNER


def automation_problem(users) -> str | None:
    """Team tokens rely on their automation account's member role; the services refuse to change it."""
    bots = sorted(u.get_username() for u in users if u is not None and Team.objects.filter(automation_user=u).exists())
    if bots:
        return f"{', '.join(bots)}: a team's automation account; its membership follows the team's tokens."
    return None


class MembershipInlineForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # membership_set finds the row by (user, team): changing the person would add a second row.
            self.fields["user"].disabled = True


class MembershipFormSet(BaseInlineFormSet):
    def clean(self):
        """All rows together must leave the team an owner: membership_set and membership_remove would each
        refuse the step that removes the last one, after the team itself was already saved."""
        super().clean()
        if self.instance.pk is None or any(self.errors):
            return
        roles = {}
        for form in self.forms:
            removed = self._should_delete_form(form)
            if (removed or form.has_changed()) and form.cleaned_data.get("user"):
                roles[form.cleaned_data["user"]] = None if removed else form.cleaned_data.get("role")
        if problem := automation_problem(roles) or last_owner_problem(team=self.instance, roles=roles):
            raise ValidationError(problem)


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipInlineForm
    formset = MembershipFormSet
    fields = ("user", "role", "source", "created_at")
    readonly_fields = ("source", "created_at")  # an edit here makes it a portal grant
    autocomplete_fields = ("user",)
    extra = 0


class TeamQuotaOverrideInline(admin.TabularInline):
    """The team's quota per cluster, over the cluster's default field by field (an empty field: the default's)."""

    model = TeamQuota
    extra = 0
    fields = ("cluster", "max_topics", "max_partitions", "max_disk_bytes")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "member_count", "topic_count", "created_at")
    search_fields = ("slug", "name", "description", "contacts")
    inlines = [MembershipInline, TeamQuotaOverrideInline]

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
            saved = team_update(actor=request.user, team=obj, via=VIA,
                                **form_changes(form, ("name", "description", "contacts")))
        else:
            saved = team_create(actor=request.user, via=VIA, **form_changes(
                form, ("slug", "name", "description", "contacts")))
        if "notification_emails" in form.changed_data:
            saved = team_notification_emails_set(actor=request.user, team=saved, via=VIA,
                                                 emails=form.cleaned_data["notification_emails"])
        adopt_saved(obj, saved)

    def save_formset(self, request, form, formset, change):
        if formset.model is TeamQuota:
            return save_team_quotas(request, formset)
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)  # sorts rows into new, changed and deleted; the services write them
        changed = [*formset.new_objects, *(m for m, _ in formset.changed_objects)]
        # New owners first, removals last: the team never passes through a state without an owner.
        for membership in sorted(changed, key=lambda m: m.role != OWNER):
            membership_set(actor=request.user, team=form.instance, user=membership.user, role=membership.role,
                           via=VIA)
        for membership in formset.deleted_objects:
            membership_remove(actor=request.user, membership=membership, via=VIA)


class MembershipForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        membership, role = self.instance, cleaned.get("role")
        if problem := automation_problem([membership.user if membership.pk else cleaned.get("user")]):
            self.add_error(None, problem)
        if membership.pk and role and "role" in self.changed_data:
            if problem := last_owner_problem(team=membership.team, roles={membership.user: role}):
                self.add_error("role", problem)
        return cleaned


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "team", "role", "source", "created_at")
    list_filter = ("role", "source", "team")
    list_select_related = ("user", "team")
    search_fields = ("user__username", "user__email", "team__slug", "team__name")
    autocomplete_fields = ("user", "team")
    form = MembershipForm
    actions = ["remove_selected"]

    def get_readonly_fields(self, request, obj=None):
        # The source is where the grant came from: one saved here is a portal grant.
        return ("user", "team", "source", "created_at") if obj else ("source", "created_at")

    def save_model(self, request, obj, form, change):
        adopt_saved(obj, membership_set(actor=request.user, team=obj.team, user=obj.user, role=obj.role, via=VIA))

    def delete_model(self, request, obj):
        membership_remove(actor=request.user, membership=obj, via=VIA)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except REFUSALS as exc:  # the last owner: nothing was deleted, the admin's transaction rolled back
            self.message_user(request, refusal_text(exc), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:onboarding_membership_change", args=[object_id]))

    def get_actions(self, request):
        # Removal goes through membership_remove one row at a time, each refusal reported on its own.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Remove the selected memberships", permissions=["delete"])
    def remove_selected(self, request, queryset):
        run_per_object(self, request, queryset.select_related("user", "team"), done="Removed {count} membership(s).",
                       call=lambda membership: membership_remove(actor=request.user, membership=membership, via=VIA))
