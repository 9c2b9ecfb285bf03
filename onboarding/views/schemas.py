"""The schema page of one side (key or value) of a topic: history, status, compare, try an event,
and for writers the editor (check, submit) and the compatibility form.

Every rule is the schema services'; these views parse input, call them and show what they say.
Fragments are answered with 200 so htmx swaps them; full pages shown again because of errors are 400.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import RequestDataTooBig
from django.db.models import Max
from django.http import QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from onboarding.errors import NotFound, PermissionDenied, ValidationError
from onboarding.forms.schemas import CompareForm, CompatibilityForm, EventForm, SchemaEditorForm
from onboarding.models import AuditEvent, ChangeRequest, ResourceStatus, Schema, Topic
from onboarding.permissions import can_read_team, can_write_team
from onboarding.schemas.events import check_event
from onboarding.selectors import topic_for
from onboarding.services.schemas import schema_check, schema_diff, schema_set_compatibility, schema_version_submit
from onboarding.services.topics import policy_for
from onboarding.views.changes import to_change_request
from onboarding.views.common import after_post, htmx_target, portal_view

BROWSER = AuditEvent.Via.BROWSER
TOO_BIG = "The request is larger than the portal accepts (1 MB); shorten the text."


# ---------------------------------------------------------------------------------------------- reading

def live_schema(topic: Topic, side: str) -> Schema | None:
    return Schema.objects.filter(topic=topic, side=side).exclude(status=ResourceStatus.DELETED).first()


def schema_cards(topic: Topic) -> list[dict]:
    """Key and value of a topic for its detail page: the live subject (or None) and its latest version."""
    live = {s.side: s for s in Schema.objects.filter(topic=topic).exclude(status=ResourceStatus.DELETED)
            .annotate(latest_number=Max("versions__number"))}
    return [{"side": side, "label": label, "schema": live.get(side), "subject": f"{topic.name}-{side}"}
            for side, label in Schema.Side.choices]


def _visible(request, pk: int, side: str) -> Topic:
    topic = topic_for(request.user, pk)  # a private topic of another team is a 404
    if side not in Schema.Side.values:
        raise NotFound("A topic has a key schema and a value schema, nothing else.")
    return topic


def _may_write(user, topic: Topic) -> bool:
    going = topic.wants_deletion or topic.status in (ResourceStatus.DELETED, ResourceStatus.DELETING)
    return can_write_team(user, topic.team) and not going


def _writable(request, pk: int, side: str) -> Topic:
    """Checked before any form parses, so a refused actor never learns more than the 403."""
    topic = _visible(request, pk, side)
    if not can_write_team(request.user, topic.team):
        raise PermissionDenied("Only owners and members of the topic's team can change its schemas.")
    return topic


def _posted(request) -> QueryDict | None:
    """The POST data, or None when the body is over Django's limit (never a 500)."""
    try:
        return request.POST
    except RequestDataTooBig:
        return None


def _page_url(topic: Topic, side: str) -> str:
    return reverse("onboarding:schema_page", args=[topic.pk, side])


# ---------------------------------------------------------------------------------------------- the page

@portal_view
def schema_page(request, pk: int, side: str):
    """GET: the page, or the fragment htmx targets. POST: submit the editor as a new version."""
    topic = _visible(request, pk, side)
    schema = live_schema(topic, side)
    target = htmx_target(request)
    if request.method == "GET" and target in (f"schema-badge-{side}", "schema-status"):
        return _status_fragment(request, topic, side, schema, target)
    if request.method == "GET" and target == "schema-history":
        return render(request, "onboarding/partials/_schema_history.html", _history(topic, side, schema))
    if request.method != "POST":
        return _render_page(request, topic, side, schema)

    topic = _writable(request, pk, side)
    policy = policy_for(topic.cluster)
    data = _posted(request)
    editor = SchemaEditorForm(data if data is not None else {}, schema=schema, policy=policy)
    if data is None:
        editor.add_error(None, TOO_BIG)
    elif editor.is_valid():
        try:
            version = schema_version_submit(actor=request.user, topic=topic, side=side, via=BROWSER,
                                            note=editor.cleaned_data["note"], **editor.service_kwargs())
        except ValidationError as exc:
            editor.add_service_errors(exc.message_dict)
        else:
            if isinstance(version, ChangeRequest):
                return to_change_request(request, version)
            messages.success(request, f"Version {version.number} of {version.schema.subject} stored; it is being "
                                      "registered in the Schema Registry.")
            return after_post(request, _page_url(topic, side))
    editor.fields["text"].widget.attrs["autofocus"] = True  # brings the editor and its errors into view
    return _render_page(request, topic, side, schema, editor=editor, status=400)


def _status_fragment(request, topic: Topic, side: str, schema: Schema | None, target: str):
    template = "_schema_badge.html" if target.startswith("schema-badge-") else "_schema_status.html"
    response = render(request, f"onboarding/partials/{template}", {
        "topic": topic, "side": side, "schema": schema, "insider": can_read_team(request.user, topic.team)})
    if target == "schema-status" and not (schema and schema.is_settling):
        # Registered: the history (registry ids and versions) reloads once.
        response["HX-Trigger"] = "schema-settled"
    return response


def _history(topic: Topic, side: str, schema: Schema | None) -> dict:
    versions = list(schema.versions.select_related("author").defer("text").order_by("-number")) if schema else []
    return {"topic": topic, "side": side, "schema": schema, "versions": versions}


def _render_page(request, topic: Topic, side: str, schema: Schema | None, *, editor=None, compatibility=None,
                 status: int = 200):
    policy = policy_for(topic.cluster)
    can_write = _may_write(request.user, topic)
    history = _history(topic, side, schema)
    numbers = [v.number for v in history["versions"]]
    context = {
        **history, "section": "topics", "policy": policy, "can_write": can_write,
        "insider": can_read_team(request.user, topic.team), "subject": f"{topic.name}-{side}",
        "side_label": Schema.Side(side).label, "latest": history["versions"][0] if numbers else None,
        "event_form": EventForm(numbers=numbers),
        "compare": {"old": numbers[1], "new": numbers[0]} if len(numbers) > 1 else None,
    }
    # A refused form is shown with its errors even if the topic stopped being writable meanwhile (deleted).
    if can_write or editor is not None:
        context["editor"] = editor or SchemaEditorForm(schema=schema, policy=policy)
    if schema and (can_write or compatibility is not None):
        context["compatibility_form"] = compatibility or CompatibilityForm(schema=schema, policy=policy)
    return render(request, "onboarding/schema_page.html", context, status=status)


# ---------------------------------------------------------------------------------------------- fragments

@portal_view
@require_GET
def schema_compare_view(request, pk: int, side: str):
    """The changes between two versions, each described in plain words."""
    topic = _visible(request, pk, side)
    schema = live_schema(topic, side)
    if schema is None:
        raise NotFound(f"{topic.name}-{side} has no schema yet.")
    form = CompareForm(request.GET)
    changes, errors = [], []
    if not form.is_valid():
        errors = ["Choose two versions to compare."]
    else:
        old, new = form.cleaned_data["old"], form.cleaned_data["new"]
        try:
            changes = schema_diff(schema=schema, from_number=old, to_number=new)
        except ValidationError as exc:
            errors = exc.messages
    return _fragment(request, "_schema_diff.html", {"changes": changes, "errors": errors, "form": form}, errors)


@portal_view
@require_POST
def schema_event_view(request, pk: int, side: str):
    """Try an example event against a version: anyone who may see the topic may try one."""
    topic = _visible(request, pk, side)
    schema = live_schema(topic, side)
    versions = {v.number: v for v in schema.versions.all()} if schema else {}
    data = _posted(request)
    form = EventForm(data if data is not None else {}, numbers=list(versions))
    problems, errors, version = [], [], None
    if data is None:
        errors = [TOO_BIG]
    elif not versions:
        errors = [f"{topic.name}-{side} has no version yet to check an event against."]
    elif not form.is_valid():
        errors = [message for messages_ in form.errors.values() for message in messages_]
    elif not form.cleaned_data["event"].strip():
        errors = ["Paste an event (a JSON document) to check."]
    else:
        version = versions[form.cleaned_data["version"] or max(versions)]
        problems = check_event(version.text, schema.format, form.cleaned_data["event"])
    return _fragment(request, "_schema_event.html", {"problems": problems, "errors": errors, "version": version},
                     errors)


@portal_view
@require_POST
def schema_check_view(request, pk: int, side: str):
    """The editor's "Check": local problems, the registry's verdict, the reasons and the diff; nothing stored."""
    topic = _writable(request, pk, side)
    data = _posted(request)
    form = SchemaEditorForm(data if data is not None else {}, schema=live_schema(topic, side),
                            policy=policy_for(topic.cluster))
    check = None
    if data is None:
        form.add_error(None, TOO_BIG)
    elif form.is_valid():
        try:
            check = schema_check(actor=request.user, topic=topic, side=side, **form.service_kwargs())
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
    errors = [message for messages_ in form.errors.values() for message in messages_]
    return _fragment(request, "_schema_check.html", {"check": check, "errors": errors}, errors)


@portal_view
@require_POST
def schema_compatibility_view(request, pk: int, side: str):
    topic = _writable(request, pk, side)
    schema = live_schema(topic, side)
    if schema is None:
        raise NotFound(f"{topic.name}-{side} has no schema yet; its first version sets the mode.")
    data = _posted(request)
    form = CompatibilityForm(data if data is not None else {}, schema=schema, policy=policy_for(topic.cluster))
    if data is None:
        form.add_error(None, TOO_BIG)
    elif form.is_valid():
        try:
            schema = schema_set_compatibility(actor=request.user, schema=schema, via=BROWSER,
                                              compatibility=form.cleaned_data["compatibility"].strip())
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
        else:
            if isinstance(schema, ChangeRequest):
                return to_change_request(request, schema)
            messages.success(request, f"{schema.subject} now uses {schema.compatibility}"
                                      + ("; the registry is being updated." if schema.is_settling else "."))
            return after_post(request, _page_url(topic, side))
    return _render_page(request, topic, side, schema, compatibility=form, status=400)


def _fragment(request, template: str, context: dict, errors: list[str]):
    """htmx swaps only 2xx answers, so a fragment that reports a problem is still a 200 for htmx."""
    status = 400 if errors and not request.htmx else 200
    return render(request, f"onboarding/partials/{template}", context, status=status)
