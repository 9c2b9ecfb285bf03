"""The schema fields of a topic on its page, with their sensitive-field tags, and tagging them (htmx).

Rules are the sensitivity services'; the forms only shape input, so the browser shows the API's words.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from onboarding.errors import NotFound, PermissionDenied, ValidationError
from onboarding.forms.base import ServiceErrorsForm
from onboarding.lineage.nodes import may_see
from onboarding.models import AuditEvent, Schema, SensitiveField, Topic
from onboarding.permissions import can_write_team
from onboarding.schemas.field_paths import schema_fields
from onboarding.selectors import topic_for, topic_schemas_with_fields
from onboarding.selectors.classification import classification_of
from onboarding.services.sensitivity import sensitive_field_clear, sensitive_field_set
from onboarding.views.common import after_post, portal_view

CLASSIFICATIONS = [("", "not sensitive"), *SensitiveField.Classification.choices]


class SensitiveFieldForm(ServiceErrorsForm):
    """Tag (or untag, with no classification) one field of a schema by its path."""

    path = forms.CharField(required=False, max_length=500, label="Field path",
                           widget=forms.TextInput(attrs={"placeholder": "patient.ssn or visits[].code",
                                                         "class": "mono"}))
    classification = forms.CharField(required=False, widget=forms.Select(choices=CLASSIFICATIONS))
    note = forms.CharField(required=False, max_length=500)


def field_cards(topic: Topic, *, forms_by_side: dict | None = None) -> list[dict]:
    """Per live schema: its latest version's fields, each with its tag, and tags no longer in that version."""
    cards = []
    for schema in topic_schemas_with_fields(topic):
        tags = {tag.path: tag for tag in schema.sensitive_fields.all()}
        fields = schema_fields(schema.latest_text or "", schema.format)
        known = {f.path for f in fields}
        cards.append({
            "schema": schema, "side": schema.side, "label": Schema.Side(schema.side).label,
            "number": schema.latest_number, "rows": [{"field": f, "tag": tags.get(f.path)} for f in fields],
            "stale": [tag for path, tag in sorted(tags.items()) if path not in known],
            "form": (forms_by_side or {}).get(schema.side) or SensitiveFieldForm(auto_id=f"id_tag_{schema.side}_%s"),
        })
    return cards


def inherited_tags(user, topic: Topic) -> list[dict]:
    """The sensitive fields this topic's routed copies carry from their sources; a source the viewer may not
    see is not named."""
    rows = []
    for tag in classification_of(topic):
        if tag.inherited:
            visible = may_see(user, tag.source)
            rows.append({"side": Schema.Side(tag.side).label, "path": tag.path, "classification": tag.classification,
                         "source": tag.source if visible else None,
                         "subject": f"{tag.source.name}-{tag.side}" if visible else ""})
    return rows


def fields_context(request, topic: Topic, **extra) -> dict:
    writable = can_write_team(request.user, topic.team) and topic.is_live and not topic.wants_deletion
    return {"topic": topic, "field_cards": field_cards(topic, forms_by_side=extra.pop("forms_by_side", None)),
            "inherited_tags": inherited_tags(request.user, topic),
            "can_tag": writable, "classifications": CLASSIFICATIONS, **extra}


@portal_view
@require_POST
def sensitive_field_view(request, pk: int, side: str):
    """Set or clear one tag; htmx gets the fields card again, a plain POST goes back to the topic page."""
    topic = topic_for(request.user, pk)
    if not can_write_team(request.user, topic.team):
        raise PermissionDenied("Only owners and members of the topic's team can tag its fields as sensitive.")
    schema = next((s for s in topic_schemas_with_fields(topic) if s.side == side), None)
    if schema is None:
        raise NotFound(f"{topic.name}-{side} has no schema.")
    form = SensitiveFieldForm(request.POST, auto_id=f"id_tag_{side}_%s")
    if form.is_valid():
        path, classification = form.cleaned_data["path"], form.cleaned_data["classification"]
        try:
            if classification:
                sensitive_field_set(actor=request.user, schema=schema, path=path, classification=classification,
                                    note=form.cleaned_data["note"], via=AuditEvent.Via.BROWSER)
                done = f"{path} of {schema.subject} is tagged {classification.upper()}."
            else:
                sensitive_field_clear(actor=request.user, schema=schema, path=path, via=AuditEvent.Via.BROWSER)
                done = f"{path} of {schema.subject} is no longer tagged."
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
        except NotFound as exc:
            form.add_error("path", str(exc))
        else:
            if not request.htmx:
                messages.success(request, done)
                back = reverse("onboarding:topic_detail", args=[topic.pk])
                return after_post(request, f"{back}?tab=schemas#topic-fields")
            return render(request, "onboarding/partials/_topic_fields.html", fields_context(request, topic, done=done))
    status = 200 if request.htmx else 400
    return render(request, "onboarding/partials/_topic_fields.html",
                  fields_context(request, topic, forms_by_side={side: form}), status=status)
