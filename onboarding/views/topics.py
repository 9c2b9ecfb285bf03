"""Reading topics (list, detail by tab, live status) and the decisions taken from the detail page: drift,
retry of a failed topic."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from onboarding.errors import ValidationError
from onboarding.filtersets import TopicFilterSet
from onboarding.forms.filtersets import TopicFilterForm
from onboarding.models import AuditEvent, ResourceStatus
from onboarding.permissions import can_read_team
from onboarding.selectors import topic_for, topic_table_rows, topics_visible_to, writable_teams_of
from onboarding.selectors.topic_page import topic_header_for
from onboarding.services.topic_retry import topic_retry
from onboarding.services.topics_drift import topic_adopt, topic_revert
from onboarding.views.common import after_post, drift_decision, htmx_target, portal_view, show_refusal
from onboarding.views.topic_tabs import TAB_CONTEXT, header_context, tab_of

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


def page_size_of(value: str | None) -> int:
    """``?page_size=`` as the API's pagination reads it: a positive integer, at most MAX_PAGE_SIZE;
    anything else gives the default page (a bad link never gives an error page)."""
    try:
        size = int(value)
    except (TypeError, ValueError):
        return PAGE_SIZE
    return min(size, MAX_PAGE_SIZE) if size > 0 else PAGE_SIZE


@portal_view
def topic_list(request):
    """Search and filters re-render only the table when htmx asks for it (hx-target=topic-table)."""
    wants_deleted = request.GET.get("status") == ResourceStatus.DELETED
    topics = topics_visible_to(request.user, include_deleted=wants_deleted)
    filter_form = TopicFilterForm(request.GET, topics=topics)
    page_size = page_size_of(request.GET.get("page_size"))
    rows = topic_table_rows(TopicFilterSet(request.GET, queryset=topics).qs)
    page = Paginator(rows, page_size).get_page(request.GET.get("page"))
    context = {"filter_form": filter_form, "page": page, "section": "topics",
               "page_size": page_size if "page_size" in request.GET else None,
               "can_create": writable_teams_of(request.user).exists(),
               "filtered": any(request.GET.get(k) for k in filter_form.fields)}
    if htmx_target(request) == "topic-table":
        return render(request, "onboarding/partials/_topic_table.html", context)
    return render(request, "onboarding/topic_list.html", context)


@portal_view
def topic_detail(request, pk: int):
    """One URL per tab (``?tab=``): the full page for a plain request, only the tab's panel when htmx asks for
    it (hx-target=topic-tab), so every tab works without JavaScript too."""
    header = topic_header_for(request.user, pk)
    topic, target = header.topic, htmx_target(request)
    if target == "topic-status":
        insider = can_read_team(request.user, topic.team)
        response = render(request, "onboarding/partials/_topic_status.html", {"topic": topic, "insider": insider})
        if not topic.is_settling:
            # The reconciler finished: the rest of the page (attempts, generation, drift) reloads once.
            response["HX-Trigger"] = "topic-settled"
        return response
    tab = tab_of(request.GET.get("tab"))
    context = header_context(request, header)
    context.update(TAB_CONTEXT[tab](request, topic, context), tab=tab)
    if target == "topic-tab":
        return render(request, "onboarding/topic_tabs/_panel.html", context)
    return render(request, "onboarding/topic_detail.html", context)


@portal_view
@require_POST
def topic_retry_view(request, pk: int):
    topic = topic_for(request.user, pk)
    try:
        topic_retry(actor=request.user, topic=topic, via=AuditEvent.Via.BROWSER)
    except ValidationError as exc:
        show_refusal(request, exc)
    else:
        messages.success(request, f"Trying {topic.name} again now.")
    return after_post(request, reverse("onboarding:topic_detail", args=[topic.pk]))


def _drift_decision(request, pk: int, service, done: str):
    topic = topic_for(request.user, pk)
    return drift_decision(request, lambda: service(actor=request.user, topic=topic, via=AuditEvent.Via.BROWSER),
                          done=lambda _: done.format(name=topic.name),
                          back=reverse("onboarding:topic_detail", args=[topic.pk]))


@portal_view
@require_POST
def topic_revert_view(request, pk: int):
    return _drift_decision(request, pk, topic_revert,
                           "Reverting {name}: the cluster will be set back to the desired state.")


@portal_view
@require_POST
def topic_adopt_view(request, pk: int):
    return _drift_decision(request, pk, topic_adopt, "Adopted what the cluster has as the desired state of {name}.")
