"""The preview of an aggregation in the browser (htmx): the saved definition from its page, or the unsaved form's
definition from the define/change form, run by the engine over recent or pasted events. Every refusal comes back
as words in the results box; an engine that cannot answer is a message, never an error page."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_POST

from onboarding.errors import ValidationError
from onboarding.forms.aggregations import AggregationForm
from onboarding.models import AuditEvent
from onboarding.permissions import can_write_team
from onboarding.selectors import aggregation_for
from onboarding.services.aggregation_preview import aggregation_preview
from onboarding.services.aggregations import current_values
from onboarding.views.common import portal_view

RESULTS = "onboarding/aggregations/_preview_results.html"


@portal_view
@require_POST
def aggregation_preview_view(request, pk: int):
    """The saved definition over the posted events (or the source's recent ones)."""
    agg = aggregation_for(request.user, pk)
    return _preview(request, team=agg.team, values=current_values(agg), current=agg)


@portal_view
@require_POST
def aggregation_form_preview_view(request, pk: int | None = None):
    """The form's definition as typed, nothing saved (``pk``: the aggregation being changed)."""
    agg = aggregation_for(request.user, pk) if pk is not None else None
    form = AggregationForm(request.POST, user=request.user, aggregation=agg)
    form.is_valid()  # the form only shapes input: the service judges every field below
    if form.team_obj is None:
        return render(request, RESULTS, {"errors": {"team": ["Choose a team in which you are an owner or a member."]}})
    return _preview(request, team=form.team_obj, values=form.values(), current=agg)


def _preview(request, *, team, values: dict, current):
    if not can_write_team(request.user, team):
        return render(request, RESULTS, {"errors": {"__all__": [
            "Only owners and members of the team can preview its aggregations."]}})
    try:
        result = aggregation_preview(actor=request.user, team=team, values=values, events=request.POST.get("events"),
                                     recent=request.POST.get("recent"), current=current, via=AuditEvent.Via.BROWSER)
    except ValidationError as exc:
        return render(request, RESULTS, {"errors": exc.message_dict})
    columns = ["group", "window_start", "window_end", *result.measures]
    rows = [[row.get(column) for column in columns] for row in result.results]
    return render(request, RESULTS, {"result": result, "columns": columns, "rows": rows})
