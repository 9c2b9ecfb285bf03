"""Operators bring topics that already exist on a cluster under a team's management."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from onboarding.errors import PermissionDenied, ValidationError
from onboarding.forms.topics import ImportForm
from onboarding.models import AuditEvent, Cluster
from onboarding.permissions import is_operator
from onboarding.platform import PlatformError
from onboarding.services.imports import topics_import, unmanaged_topics
from onboarding.views.common import after_post, htmx_target, portal_view

# A shared broker can hold thousands of topics nobody manages; the page lists a readable number.
MAX_LISTED = 200


def _cluster_for(request, form: ImportForm) -> Cluster | None:
    clusters = form.fields["cluster"].queryset
    raw = (request.POST if request.method == "POST" else request.GET).get("cluster", "")
    return (clusters.filter(pk=raw).first() if raw.isdigit() else None) or clusters.first()


@portal_view
def import_view(request):
    """The listing talks to Kafka; when Kafka cannot answer, the page says why instead of failing."""
    if not is_operator(request.user):
        raise PermissionDenied("Only platform operators can import topics.")
    posted = request.method == "POST"
    form = ImportForm(request.POST if posted else None)
    cluster = _cluster_for(request, form)
    if cluster is not None:
        form.initial["cluster"] = cluster.pk
    problem, status = "", 200

    if posted and form.is_valid():
        try:
            imported = topics_import(actor=request.user, cluster=form.cleaned_data["cluster"],
                                     team=form.cleaned_data["team"], names=form.cleaned_data["names"],
                                     via=AuditEvent.Via.BROWSER)
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
        except PlatformError as exc:
            problem, status = str(exc), 503
        else:
            team = form.cleaned_data["team"]
            messages.success(request, f"Imported {len(imported)} topic{'s' if len(imported) != 1 else ''} "
                                      f"for {team.slug}: {', '.join(t.name for t in imported)}.")
            return after_post(request, reverse("onboarding:topic_list") + "?" + urlencode({"team": team.slug}))
    if posted and form.errors:
        status = 400

    available, search = [], (request.POST if posted else request.GET).get("q", "").strip()
    if cluster is not None and not problem:
        try:
            available = unmanaged_topics(cluster)
        except PlatformError as exc:
            problem = str(exc)
            status = 503 if posted else status
    matching = [t for t in available if search.lower() in t.name.lower()]
    context = {
        "form": form, "cluster": cluster, "problem": problem, "section": "import", "search": search,
        "listed": matching[:MAX_LISTED], "matching": len(matching), "unmanaged": len(available),
        "selected": set(request.POST.getlist("names")) if posted else set(),
    }
    if htmx_target(request) == "import-list":
        return render(request, "onboarding/partials/_import_list.html", context, status=status)
    return render(request, "onboarding/import.html", context, status=status)
