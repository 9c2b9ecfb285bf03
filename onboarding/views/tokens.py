"""API tokens in the browser: a person's own on /tokens/, a team's on /teams/<slug>/tokens/ (its owners).

As for service-account passwords, the token's secret exists only in the answer to the create POST:
rendered once with ``Cache-Control: no-store``, never put in the session, a message or a redirect.
Afterwards only its prefix ``pep_<key id>`` is shown.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from onboarding import selectors
from onboarding.errors import NotFound, PermissionDenied, ValidationError
from onboarding.forms.identity import TokenCreateForm
from onboarding.models import AuditEvent, Team
from onboarding.permissions import can_read_team, is_team_owner
from onboarding.services.tokens import team_token_create, token_create, token_revoke
from onboarding.views.common import after_post, form_status, portal_view

BROWSER = AuditEvent.Via.BROWSER


def owned_team(request, slug: str) -> Team:
    """The team, if the user may see it (else 404) and owns it (else 403)."""
    team = Team.objects.filter(slug=slug).first()
    if team is None or not can_read_team(request.user, team):
        raise NotFound("No such team.")
    if not is_team_owner(request.user, team):
        raise PermissionDenied(f"Only owners of {team.slug} manage its tokens.")
    return team


def _secret_page(request, token, plain: str, back: str):
    response = render(request, "onboarding/token_secret.html",
                      {"token": token, "plain": plain, "back": back, "section": "teams" if token.team_id else "tokens"})
    add_never_cache_headers(response)  # the page holds the only copy of the token
    return response


def _list_or_create(request, *, tokens, create, back: str, template_context: dict):
    form = TokenCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            token, plain = create(name=form.cleaned_data["name"], scope=form.cleaned_data["scope"],
                                  expires_at=form.expires_at())
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
        else:
            return _secret_page(request, token, plain, back)
    return render(request, "onboarding/token_list.html",
                  {"tokens": tokens, "form": form, "section": "teams" if template_context["team"] else "tokens",
                   **template_context},
                  status=form_status(form))


@portal_view
def token_list(request):
    """The user's personal tokens; POST creates one and shows its secret once."""
    return _list_or_create(
        request, tokens=selectors.personal_tokens_of(request.user), back=reverse("onboarding:tokens"),
        create=lambda **fields: token_create(actor=request.user, user=request.user, via=BROWSER, **fields),
        template_context={"team": None})


@portal_view
def team_token_list(request, slug: str):
    """A team's tokens (owners only); POST creates one acting as the team's automation account."""
    team = owned_team(request, slug)
    return _list_or_create(
        request, tokens=selectors.team_tokens_of(team), back=reverse("onboarding:team_tokens", args=[slug]),
        create=lambda **fields: team_token_create(actor=request.user, team=team, via=BROWSER, **fields),
        template_context={"team": team})


@require_POST
@portal_view
def token_revoke_view(request, pk: int):
    token = selectors.token_for(request.user, pk)
    if token_revoke(actor=request.user, token=token, via=BROWSER):
        messages.success(request, f"Revoked {token.name} ({token.display_prefix}): it no longer works.")
    back = (reverse("onboarding:team_tokens", args=[token.team.slug]) if token.team_id
            else reverse("onboarding:tokens"))
    return after_post(request, back)
