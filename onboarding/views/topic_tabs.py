"""The topic page's tabs: what each one needs, computed only for the tab asked for (so a tab costs its own
queries, never the whole page's), and the state the header's actions follow."""

from __future__ import annotations

from django.conf import settings

from onboarding.changes.promotion import next_environment
from onboarding.groups.lag_chart import lag_chart
from onboarding.lineage.nodes import lineage_of, may_see
from onboarding.models import ResourceStatus, Subscription
from onboarding.peek.service import DEFAULT_LIMIT, MAX_LIMIT, may_peek
from onboarding.permissions import can_read_team, can_write_team, is_team_owner
from onboarding.selectors import topic_attempts, topic_producers, topic_readers
from onboarding.selectors.topic_neighbours import topic_neighbours
from onboarding.selectors.topic_page import TopicHeader
from onboarding.selectors.topic_traffic import topic_traffic
from onboarding.services.topics_drift import has_drift, revert_refusals
from onboarding.views.gateway_help import grpc_commands, publish_commands
from onboarding.views.schemas import schema_cards
from onboarding.views.subscriptions import may_subscribe
from onboarding.views.topic_fields import fields_context

TABS = (("overview", "Overview"), ("schemas", "Schemas"), ("access", "Access"), ("traffic", "Traffic"),
        ("events", "Events"), ("history", "History"))
TAB_NAMES = {name for name, _ in TABS}


def tab_of(value: str | None) -> str:
    """``?tab=`` as the page reads it: an unknown or missing tab is the overview (a bad link never errors)."""
    return value if value in TAB_NAMES else "overview"


def header_context(request, header: TopicHeader) -> dict:
    """What the actions above the tabs depend on: the topic's state, an open change request, the viewer's
    own subscription (read with the topic, selectors/topic_page.py)."""
    user, topic = request.user, header.topic
    insider, writer = can_read_team(user, topic.team), can_write_team(user, topic.team)
    live = topic.is_live and not topic.wants_deletion
    # Only the team sees that a change of its topic waits.
    open_change = header.open_change if insider else None
    own = header.own_subscription
    return {
        "topic": topic, "insider": insider, "section": "topics",
        # An outsider looking at a public topic sees its metadata, never its controls or history.
        "can_write": writer and live,
        # Only a topic that is on its cluster as asked can be proposed for the next environment.
        "promote_to": next_environment(topic.cluster) if writer and topic.status == ResourceStatus.READY else None,
        "can_retry": writer and topic.status == ResourceStatus.FAILED and not topic.claim_token,
        "drifted": insider and has_drift(topic),
        "open_change": open_change,
        "own_change": bool(open_change and open_change.requested_by_id == user.pk),
        "own_subscription": own,
        "can_subscribe": own is None and may_subscribe(user, topic),
        "can_read_history": insider,
        "tabs": TABS,
    }


def overview(request, topic, ctx: dict) -> dict:
    user, insider = request.user, ctx["insider"]
    return {
        "can_decide_drift": is_team_owner(user, topic.team) and ctx["drifted"],
        "revert_refused": revert_refusals(topic),
        "drift_rows": drift_rows(topic.drift) if ctx["drifted"] else [],
        "lineage": lineage_of(user, topic, topic_neighbours(topic)),
        "gateway_commands": gateway_commands(user, topic),
        "insider": insider,
    }


def schemas(request, topic, ctx: dict) -> dict:
    return {**fields_context(request, topic), "schema_cards": schema_cards(topic)}


def access(request, topic, ctx: dict) -> dict:
    readers = topic_readers(topic) if ctx["insider"] else []
    return {"producers": list(topic_producers(topic)),
            "subscribers": readers if ctx["insider"] else None,
            "routes": routed_destinations(request.user, readers) if ctx["insider"] else None}


def traffic(request, topic, ctx: dict) -> dict:
    kept = topic_traffic(topic)
    return {"traffic": lag_chart({"events/min": kept.rates}), "size": lag_chart({"bytes": kept.sizes}),
            "traffic_totals": kept.totals, "sample_seconds": settings.TRAFFIC_SAMPLE_SECONDS}


def events(request, topic, ctx: dict) -> dict:
    return {"can_peek": may_peek(request.user, topic), "peek_limit": DEFAULT_LIMIT, "max_peek": MAX_LIMIT,
            "has_event_store": topic.event_store_bindings.exists()}


def history(request, topic, ctx: dict) -> dict:
    return {"attempts": topic_attempts(topic) if ctx["insider"] else None}


TAB_CONTEXT = {"overview": overview, "schemas": schemas, "access": access, "traffic": traffic, "events": events,
               "history": history}


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
