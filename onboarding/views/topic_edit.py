"""Creating, changing and deleting topics through forms; every rule is the service's."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from onboarding.errors import Conflict, PermissionDenied, ValidationError
from onboarding.forms.topics import DeleteConfirmForm, TopicCreateForm, TopicEditForm, with_policy_defaults
from onboarding.models import AuditEvent, ChangeRequest, ResourceStatus, Topic
from onboarding.permissions import can_write_team
from onboarding.selectors import topic_for, writable_teams_of
from onboarding.services.topics import (
    topic_create,
    topic_create_errors,
    topic_delete,
    topic_update,
    topic_update_errors,
)
from onboarding.views.changes import to_change_request
from onboarding.views.common import after_post, form_status, portal_view

BROWSER = AuditEvent.Via.BROWSER


# ---------------------------------------------------------------------------------------------- create

def _check_create(form: TopicCreateForm) -> None:
    """Parser errors plus the service's own checks, so the page shows every problem at once."""
    form.is_valid()
    kwargs = form.create_kwargs()
    if kwargs is not None:
        form.add_service_errors(topic_create_errors(**with_policy_defaults(kwargs, form.policy)), skip_failed=True)


@portal_view
def topic_create_view(request):
    if not writable_teams_of(request.user).exists():
        raise PermissionDenied("You can create topics only for a team in which you are an owner or a member.")
    if request.method != "POST":
        # Query values pre-fill the form (links like 'New topic for payments', or a cluster switch).
        # Sizes and configs are left to the new cluster's defaults: another cluster has other rules.
        initial = {k: v for k, v in request.GET.items() if k in TopicCreateForm.KEPT_ON_CLUSTER_SWITCH}
        form = TopicCreateForm(user=request.user, initial=initial)
        return _render_create(request, form)

    form = TopicCreateForm(request.POST, user=request.user)
    if form.is_valid() and (kwargs := form.create_kwargs()) is not None:
        try:
            topic = topic_create(actor=request.user, via=BROWSER, **kwargs)
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
        else:
            if isinstance(topic, ChangeRequest):
                return to_change_request(request, topic)
            messages.success(request, f"Topic {topic.name} registered; it is being created on {topic.cluster.name}.")
            return after_post(request, reverse("onboarding:topic_detail", args=[topic.pk]))
    else:
        _check_create(form)
    return _render_create(request, form, status=form_status(form))


def _render_create(request, form, status: int = 200):
    return render(request, "onboarding/topic_form.html", {
        "form": form, "limits": form.limits(), "section": "topics", "creating": True,
        "validate_url": reverse("onboarding:topic_validate"),
    }, status=status)


@portal_view
@require_POST
def topic_validate(request):
    """Validate as you type: answers with error fragments swapped out-of-band next to each field."""
    form = TopicCreateForm(request.POST, user=request.user)
    _check_create(form)
    if not (request.POST.get("name") or "").strip():
        # No scolding for a field nobody has typed in yet; the submit still reports it.
        form.errors.pop("name", None)
    return render(request, "onboarding/partials/_form_errors.html", {"form": form, "limits": form.limits()})


# ---------------------------------------------------------------------------------------------- edit

def _check_update(form: TopicEditForm, *, topic: Topic) -> None:
    """Parser errors plus the service's own checks (a stale generation among them), nothing saved."""
    form.is_valid()
    form.add_service_errors(topic_update_errors(topic=topic, **form.update_kwargs()), skip_failed=True)


def _editable(request, pk: int) -> Topic:
    topic = topic_for(request.user, pk)
    if not can_write_team(request.user, topic.team):
        raise PermissionDenied("Only owners and members of the team can change its topics.")
    return topic


@portal_view
def topic_edit_view(request, pk: int):
    topic = _editable(request, pk)
    if not topic.is_live or topic.wants_deletion:
        messages.info(request, f"{topic.name} is deleted or being deleted; it can no longer be changed.")
        return redirect("onboarding:topic_detail", pk=topic.pk)
    if request.method != "POST":
        return _render_edit(request, TopicEditForm(topic=topic), topic)

    form = TopicEditForm(request.POST, topic=topic)
    if form.is_valid():
        try:
            topic = topic_update(actor=request.user, topic=topic, via=BROWSER, **form.update_kwargs())
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
        except Conflict as exc:
            form.add_error(None, str(exc))
        else:
            if isinstance(topic, ChangeRequest):
                return to_change_request(request, topic)
            messages.success(request, f"Saved {topic.name}." + (
                " The change is being applied to the cluster." if topic.is_settling else ""))
            return after_post(request, reverse("onboarding:topic_detail", args=[topic.pk]))
    else:
        _check_update(form, topic=topic)
    return _render_edit(request, form, topic, status=form_status(form))


def _render_edit(request, form, topic, status: int = 200):
    return render(request, "onboarding/topic_form.html", {
        "form": form, "limits": form.limits(), "topic": topic, "section": "topics", "creating": False,
        "validate_url": reverse("onboarding:topic_edit_validate", args=[topic.pk]),
    }, status=status)


@portal_view
@require_POST
def topic_edit_validate(request, pk: int):
    topic = _editable(request, pk)
    form = TopicEditForm(request.POST, topic=topic)
    _check_update(form, topic=topic)
    return render(request, "onboarding/partials/_form_errors.html", {"form": form, "limits": form.limits()})


# ---------------------------------------------------------------------------------------------- delete

@portal_view
def topic_delete_view(request, pk: int):
    """Two steps: this page, then the typed name. The name is checked by the service."""
    topic = _editable(request, pk)
    form = DeleteConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = topic_delete(actor=request.user, topic=topic, confirm_name=form.cleaned_data["confirm_name"],
                                   delete_schemas=form.cleaned_data["delete_schemas"], via=BROWSER)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            if isinstance(outcome, ChangeRequest):
                return to_change_request(request, outcome)
            messages.success(request, f"Deleting {topic.name} from {topic.cluster.name}.")
            return after_post(request, reverse("onboarding:topic_detail", args=[topic.pk]))
    schemas = topic.schemas.exclude(status=ResourceStatus.DELETED)
    return render(request, "onboarding/topic_delete.html",
                  {"form": form, "topic": topic, "schemas": schemas, "section": "topics"},
                  status=form_status(form))
