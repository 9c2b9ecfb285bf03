"""Teams in the browser: the list, a team's page, and its members (managed by its owners).

Membership changes go through services/teams.py, which keeps the last owner of a team from being
removed or demoted; its message is shown next to the form that tried.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from onboarding import selectors
from onboarding.errors import NotFound, PermissionDenied, ValidationError
from onboarding.forms.identity import MemberAddForm, MemberRoleForm
from onboarding.models import AuditEvent, Membership, Team
from onboarding.permissions import can_read_team, is_team_owner
from onboarding.selectors.team_quotas import team_quota_usage
from onboarding.services.teams import membership_remove, membership_set
from onboarding.views.common import after_post, form_status, portal_view

BROWSER = AuditEvent.Via.BROWSER


def _team(request, slug: str) -> Team:
    team = Team.objects.filter(slug=slug).first()
    if team is None or not can_read_team(request.user, team):
        raise NotFound("No such team.")
    return team


def _members(team: Team):
    return (Membership.objects.filter(team=team).select_related("user")
            .order_by("role", "user__username"))


@portal_view
def team_list(request):
    teams = selectors.teams_of(request.user).order_by("slug")
    roles = dict(Membership.objects.filter(user=request.user).values_list("team_id", "role"))
    rows = [(team, roles.get(team.pk)) for team in teams]
    return render(request, "onboarding/team_list.html", {"rows": rows, "section": "teams"})


@portal_view
def team_detail(request, slug: str):
    team = _team(request, slug)
    return render(request, "onboarding/team_detail.html", {
        "team": team, "members": _members(team), "is_owner": is_team_owner(request.user, team),
        "team_connectors": selectors.connectors_of_team(request.user, team)[:50],
        "quota_usage": team_quota_usage(team), "section": "teams"})


@portal_view
def team_members(request, slug: str):
    """Everyone in the team sees its members; owners add people (POST) and change or remove them."""
    team = _team(request, slug)
    is_owner = is_team_owner(request.user, team)
    form = MemberAddForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not is_owner:
            raise PermissionDenied(f"Only owners of {team.slug} manage its members.")
        if form.is_valid():
            user = form.cleaned_data["username"]
            try:
                membership_set(actor=request.user, team=team, user=user, role=form.cleaned_data["role"], via=BROWSER)
            except ValidationError as exc:
                form.add_service_errors({"role" if key == "__all__" else key: msgs
                                         for key, msgs in exc.message_dict.items()})
            else:
                messages.success(request, f"{user.get_username()} is now {form.cleaned_data['role']} of {team.slug}.")
                return after_post(request, reverse("onboarding:team_members", args=[slug]))
    return _members_page(request, team, form=form, is_owner=is_owner, status=form_status(form))


def _members_page(request, team, *, form=None, is_owner: bool, status: int = 200, errors=None):
    members = list(_members(team))
    for membership in members:  # a refused role change or removal is shown on its row
        membership.refusals = (errors or {}).get(membership.pk, [])
    return render(request, "onboarding/team_members.html", {
        "team": team, "members": members, "form": form or MemberAddForm(), "is_owner": is_owner,
        "roles": Membership.Role.choices, "section": "teams"}, status=status)


def _membership(request, slug: str, pk: int) -> Membership:
    team = _team(request, slug)
    membership = Membership.objects.select_related("user", "team").filter(team=team, pk=pk).first()
    if membership is None:
        raise NotFound("No such member.")
    if not is_team_owner(request.user, team):
        raise PermissionDenied(f"Only owners of {team.slug} manage its members.")
    return membership


@require_POST
@portal_view
def member_role_view(request, slug: str, pk: int):
    membership = _membership(request, slug, pk)
    form = MemberRoleForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError({"role": ["Choose owner, member or viewer."]})
        membership_set(actor=request.user, team=membership.team, user=membership.user,
                       role=form.cleaned_data["role"], via=BROWSER)
    except ValidationError as exc:
        return _members_page(request, membership.team, is_owner=True, status=400,
                             errors={membership.pk: exc.messages})
    messages.success(request, f"{membership.user.get_username()} is now {form.cleaned_data['role']}.")
    return after_post(request, reverse("onboarding:team_members", args=[slug]))


@require_POST
@portal_view
def member_remove_view(request, slug: str, pk: int):
    membership = _membership(request, slug, pk)
    try:
        membership_remove(actor=request.user, membership=membership, via=BROWSER)
    except ValidationError as exc:
        return _members_page(request, membership.team, is_owner=True, status=400,
                             errors={membership.pk: exc.messages})
    messages.success(request, f"Removed {membership.user.get_username()} from {slug}.")
    return after_post(request, reverse("onboarding:team_members", args=[slug]))
