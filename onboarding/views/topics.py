"""Reading topics (list, detail, live status) and the drift decisions taken from the detail page."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from onboarding.changes.promotion import next_environment
from onboarding.filtersets import TopicFilterSet
from onboarding.forms.filtersets import TopicFilterForm
from onboarding.lineage.nodes import lineage_of, may_see
from onboarding.models import AuditEvent, ResourceStatus, Subscription
from onboarding.peek.service import DEFAULT_LIMIT, MAX_LIMIT, may_peek
from onboarding.permissions import can_read_team, can_write_team, is_team_owner
from onboarding.selectors import (
    topic_attempts,
    topic_for,
    topic_producers,
    topic_readers,
    topic_routed_sources,
    topic_table_rows,
    topics_visible_to,
    writable_teams_of,
)
from onboarding.services.topics_drift import has_drift, revert_refusals, topic_adopt, topic_revert
from onboarding.views.common import drift_decision, htmx_target, portal_view
from onboarding.views.gateway_help import grpc_commands, publish_commands
from onboarding.views.schemas import schema_cards
from onboarding.views.subscriptions import may_subscribe
from onboarding.views.topic_fields import fields_context

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
    topic = topic_for(request.user, pk)
    insider = can_read_team(request.user, topic.team)
    if htmx_target(request) == "topic-status":
        response = render(request, "onboarding/partials/_topic_status.html", {"topic": topic, "insider": insider})
        if not topic.is_settling:
            # The reconciler finished: the rest of the page (attempts, generation, drift) reloads once.
            response["HX-Trigger"] = "topic-settled"
        return response
    producers = list(topic_producers(topic))
    readers = topic_readers(topic)
    return render(request, "onboarding/topic_detail.html", {
        **fields_context(request, topic),
        "section": "topics",
        # An outsider looking at a public topic sees its metadata, never its controls or history.
        "can_write": can_write_team(request.user, topic.team) and topic.is_live and not topic.wants_deletion,
        "promote_to": next_environment(topic.cluster) if can_write_team(request.user, topic.team) else None,
        "can_decide_drift": is_team_owner(request.user, topic.team) and has_drift(topic),
        "revert_refused": revert_refusals(topic),
        "insider": insider,
        "attempts": topic_attempts(topic) if insider else None,
        "drift_rows": drift_rows(topic.drift) if insider and has_drift(topic) else [],
        "schema_cards": schema_cards(topic),
        "can_subscribe": may_subscribe(request.user, topic),
        "can_read_history": insider,
        "subscribers": readers if insider else None,
        "routes": routed_destinations(request.user, readers) if insider else None,
        "producers": producers,
        "lineage": lineage_of(request.user, topic, producers=producers, sources=topic_routed_sources(topic),
                              readers=readers),
        "can_peek": may_peek(request.user, topic), "peek_limit": DEFAULT_LIMIT, "max_peek": MAX_LIMIT,
        "gateway_commands": gateway_commands(request.user, topic),
    })


def gateway_commands(user, topic) -> dict[str, str] | None:
    """How the team publishes through the gateway: for its writers, once the topic is on the cluster."""
    if not can_write_team(user, topic.team) or topic.status == ResourceStatus.DELETED:
        return None
    return {**publish_commands(topic=topic.name, team=topic.team.slug, gateway_url=settings.GATEWAY_PUBLIC_URL),
            **grpc_commands(topic=topic.name, team=topic.team.slug, grpc_url=settings.GATEWAY_PUBLIC_GRPC_URL)}


def routed_destinations(user, readers: list[Subscription]) -> list[Subscription]:
    """The routed subscriptions among the readers; a destination the viewer may not see keeps its name secret."""
    routes = [sub for sub in readers if sub.mode == Subscription.Mode.ROUTED and sub.destination is not None]
    for sub in routes:
        sub.destination_visible = may_see(user, sub.destination)
    return routes


def drift_rows(drift: dict | None) -> list[tuple[str, object, object]]:
    """topic.drift flattened to (what, desired, observed) rows for one table."""
    if not drift:
        return []
    rows = []
    if "exists" in drift:
        rows.append(("Topic exists", "yes", "no, deleted on the cluster"))
    for field, label in (("partitions", "Partitions"), ("replication_factor", "Replication factor")):
        if field in drift:
            rows.append((label, drift[field]["desired"], drift[field]["observed"]))
    for key, values in sorted(drift.get("configs", {}).items()):
        rows.append((key, values.get("desired"), values.get("observed")))
    return rows


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
