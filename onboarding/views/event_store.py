"""The topic page's event store section: loaded after the page (htmx), it shows how the topic is kept (mode,
retention, indexes, where, the sink's state, drift) and, to the owning team, the form to keep it, change it or stop.
The section polls itself while the reconciler works on the binding."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from onboarding.errors import Conflict, NotFound, PermissionDenied, ValidationError
from onboarding.forms.event_store import EventStoreBindingForm
from onboarding.models import AuditEvent, ChangeRequest
from onboarding.permissions import can_read_team, can_write_team
from onboarding.selectors import topic_for
from onboarding.selectors.event_store import binding_for
from onboarding.services import event_store as services
from onboarding.views.changes import to_change_request
from onboarding.views.common import after_post, form_status, portal_view, show_refusal

BROWSER = AuditEvent.Via.BROWSER
TEMPLATE = "onboarding/partials/_event_store_binding.html"


def _section(request, topic, *, form=None, status: int = 200):
    binding = binding_for(topic)
    may_write = can_write_team(request.user, topic.team) and topic.is_live and not topic.wants_deletion
    editable = may_write and (binding is None or not binding.wants_deletion)
    if form is None and editable:
        form = EventStoreBindingForm(binding=binding)
    return render(request, TEMPLATE, {"topic": topic, "binding": binding, "form": form if editable else None,
                                      "can_write": may_write}, status=status)


def _team_topic(request, pk: int):
    """The topic, for its team's members and operators: how a topic is stored (collection, sink traces) is the
    team's business, like its connectors; anyone else is told there is no such page."""
    topic = topic_for(request.user, pk)
    if not can_read_team(request.user, topic.team):
        raise NotFound("No such topic.")
    return topic


@portal_view
def event_store_binding_view(request, pk: int):
    """GET: the section. POST: keep the topic in the event store, or change how."""
    topic = _team_topic(request, pk)
    if request.method != "POST":
        return _section(request, topic)
    if not can_write_team(request.user, topic.team):
        raise PermissionDenied(f"Only the team that owns {topic.name} can keep it in the event store.")
    binding = binding_for(topic)
    form = EventStoreBindingForm(request.POST, binding=binding)
    if form.is_valid():
        try:
            if binding is None:
                result = services.event_store_bind(actor=request.user, topic=topic, via=BROWSER, **form.values())
            else:
                result = services.event_store_update(actor=request.user, binding=binding, via=BROWSER,
                                                     expected_generation=form.cleaned_data.get("generation"),
                                                     **form.values())
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
        except Conflict as exc:
            form.add_error(None, str(exc))
        else:
            if isinstance(result, ChangeRequest):
                return to_change_request(request, result)
            messages.success(request, f"{topic.name} is kept in the event store ({result.get_mode_display()}); "
                                      "the sink starts shortly.")
            return after_post(request, reverse("onboarding:topic_detail", args=[topic.pk]) + "?tab=events#event-store")
    return _section(request, topic, form=form, status=form_status(form))


@portal_view
@require_POST
def event_store_unbind_view(request, pk: int):
    topic = _team_topic(request, pk)
    binding = binding_for(topic)
    if binding is None:
        messages.info(request, f"{topic.name} is not kept in the event store.")
    else:
        try:
            result = services.event_store_unbind(actor=request.user, binding=binding, via=BROWSER)
        except (ValidationError, PermissionDenied) as exc:
            show_refusal(request, exc)
        else:
            if isinstance(result, ChangeRequest):
                return to_change_request(request, result)
            messages.success(request, f"{topic.name} is no longer kept: its sink and documents are being removed.")
    return after_post(request, reverse("onboarding:topic_detail", args=[topic.pk]) + "?tab=events#event-store")
