"""Peek at a topic's last events from its page (htmx), decoded and with sensitive fields masked."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from onboarding.errors import ValidationError
from onboarding.models import AuditEvent
from onboarding.peek.service import DEFAULT_LIMIT, MAX_LIMIT, topic_peek
from onboarding.platform import PlatformError
from onboarding.selectors import topic_for
from onboarding.views.common import portal_view


@portal_view
@require_GET
def topic_peek_view(request, pk: int):
    topic = topic_for(request.user, pk)  # a private topic of another team is a 404
    context = {"topic": topic, "limit": request.GET.get("limit") or DEFAULT_LIMIT, "max_limit": MAX_LIMIT,
               "section": "topics"}
    status = 200
    try:
        context["peek"] = topic_peek(actor=request.user, topic=topic, limit=request.GET.get("limit"),
                                     via=AuditEvent.Via.BROWSER)
    except ValidationError as exc:
        context["errors"], status = exc.messages, 400
    except PlatformError as exc:
        context["errors"], status = [f"The events could not be read: {exc}. Try again in a moment."], 503
    if request.htmx:
        # htmx swaps only 2xx answers: a problem is still shown in place.
        return render(request, "onboarding/partials/_peek.html", context)
    return render(request, "onboarding/topic_peek.html", context, status=status)
