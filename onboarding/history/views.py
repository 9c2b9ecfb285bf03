"""History pages: a team's history and one resource's history, filterable, with CSV and JSON export."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from onboarding.errors import NotFound
from onboarding.history import present
from onboarding.history.forms import TrailFilterForm
from onboarding.history.selectors import RESOURCE_TYPES, TrailFilter, trail_for
from onboarding.selectors import team_with_slug
from onboarding.views.common import form_status, portal_view

PAGE_SIZE = 50
EXPORTS = {"csv": ("text/csv; charset=utf-8", present.csv_lines),
           "json": ("application/json", present.json_lines)}


def export_response(events, kind: str, stem: str) -> StreamingHttpResponse:
    """The filtered events streamed as a download, produced while it is sent."""
    content_type, lines = EXPORTS[kind]
    response = StreamingHttpResponse(lines(events), content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="{stem}-history-{stamp}.{kind}"'
    return response


def _trail_page(request, *, fixed: TrailFilter, title: str, stem: str, show_resource_filter: bool,
                named: bool = False):
    form = TrailFilterForm(request.GET or None)
    wanted = form.trail_filter(team=fixed.team, resource_id=fixed.resource_id) if form.is_valid() else fixed
    if fixed.resource_type:
        wanted = TrailFilter(**{**wanted.__dict__, "resource_type": fixed.resource_type})
    events = trail_for(request.user, wanted)
    kind = request.GET.get("export")
    if kind in EXPORTS and not form.errors:
        return export_response(events, kind, stem)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    rows = present.rows(page.object_list)
    if named and rows:  # one resource's page: call it by the name its latest event gives it
        title = f"History of {rows[0]['kind_label']} {rows[0]['object']}"
    return render(request, "history/trail.html", {
        "title": title, "form": form, "page": page, "rows": rows,
        "query": query.urlencode(), "show_resource_filter": show_resource_filter,
    }, status=form_status(form))


@portal_view
def team_history(request, slug):
    team = team_with_slug(slug)
    if team is None:
        raise NotFound("No such team.")
    return _trail_page(request, fixed=TrailFilter(team=team), title=f"History of team {team.slug}",
                       stem=team.slug, show_resource_filter=True)


@portal_view
def resource_history(request, resource_type, resource_id):
    if resource_type not in RESOURCE_TYPES:
        raise NotFound("No such kind of resource.")
    return _trail_page(request, fixed=TrailFilter(resource_type=resource_type, resource_id=str(resource_id)),
                       title=f"History of {resource_type} {resource_id}", stem=f"{resource_type}-{resource_id}",
                       show_resource_filter=False, named=True)
