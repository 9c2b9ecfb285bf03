"""What every portal view shares: service errors turned into pages, and the answer after a POST."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import redirect, render

from onboarding.errors import NotFound, PermissionDenied, ValidationError


def portal_view(view):
    """Log-in required; a refused or hidden object becomes the portal's 403/404 page, never a 500.

    Services raise PermissionDenied and NotFound wherever the rule lives, so views need not check
    twice; this is the single place that turns them into responses.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return _to_login(request)
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            return render(request, "onboarding/403.html", {"reason": str(exc)}, status=403)
        except NotFound as exc:
            return render(request, "onboarding/404.html", {"reason": str(exc)}, status=404)

    return wrapper


def _to_login(request) -> HttpResponse:
    """An htmx fragment request (a status poll after the session expired) must move the whole page
    to the login form, not paste the login form into the fragment."""
    if request.htmx:
        login = redirect_to_login(request.htmx.current_url_abs_path or request.get_full_path())
        response = HttpResponse(status=204)
        response["HX-Redirect"] = login["Location"]
        return response
    return redirect_to_login(request.get_full_path())


def after_post(request, url: str) -> HttpResponse:
    """A successful POST answers with a redirect (HX-Location for htmx), so a reload never re-submits."""
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Location"] = url
        return response
    return redirect(url)


def form_status(form) -> int:
    """A form shown again because of its errors is a 400: the page is fine, the input was not."""
    return 400 if form.is_bound and form.errors else 200


def htmx_target(request) -> str | None:
    """Which part of the page an htmx request asks for (the id in its hx-target), if any."""
    return request.htmx.target if request.htmx else None


def show_refusal(request, exc: PermissionDenied | ValidationError) -> None:
    """A service's refusal of a button press, as messages on the page the user returns to."""
    for text in (exc.messages if isinstance(exc, ValidationError) else [str(exc)]):
        messages.error(request, text)


def drift_decision(request, decide, *, done, back: str):
    """A revert or adopt button: run ``decide()``; a refusal (ValidationError) becomes page messages, success
    says ``done(result)``; either way back to ``back`` (the full page, or the fragment htmx asked for)."""
    try:
        result = decide()
    except ValidationError as exc:
        show_refusal(request, exc)
    else:
        messages.success(request, done(result))
    return after_post(request, back)
