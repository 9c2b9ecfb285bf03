"""Mappings in the browser: the list, the mapping page (current rules, coverage, versions, promote, delete) and
the editor: the source's and the canonical topic's field trees side by side, a rule made by picking a canonical
field, a source field and a function, and the live preview beside it. The editor's checks are the save checks
(``services.mappings_check``), so what it shows beside a rule is what a save (or the API) would refuse."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from onboarding.errors import Conflict, PermissionDenied, ValidationError
from onboarding.forms.mappings import ARGS_HINTS, MappingEditorForm
from onboarding.models import AuditEvent, ChangeRequest, Mapping, ResourceStatus
from onboarding.permissions import can_write_team
from onboarding.selectors import mappings as reads
from onboarding.selectors import writable_teams_of
from onboarding.selectors.teams import cluster_named, clusters_with_policies, team_with_slug
from onboarding.services import mappings as services
from onboarding.services.mappings_check import mapping_preview
from onboarding.views.changes import to_change_request
from onboarding.views.common import after_post, portal_view, show_refusal

BROWSER = AuditEvent.Via.BROWSER


@portal_view
def mapping_list(request):
    wants_deleted = request.GET.get("status") == ResourceStatus.DELETED
    rows = reads.mappings_visible_to(request.user, include_deleted=wants_deleted).order_by("team__slug", "name")
    if team := request.GET.get("team"):
        rows = rows.filter(team__slug=team)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "mappings/list.html", {
        "page": page, "section": "mappings", "team": team or "", "canonical": reads.canonical_topics(),
        "can_create": writable_teams_of(request.user).exists()})


@portal_view
def mapping_detail(request, pk: int):
    mapping = reads.mapping_for(request.user, pk)
    version = mapping.current_version
    return render(request, "mappings/detail.html", {
        "mapping": mapping, "version": version, "versions": reads.mapping_versions(mapping), "section": "mappings",
        "rules": [{"index": i, "rule": r, "args": _args_text(r)} for i, r in enumerate(version.rules)] if version
        else [],
        "other_clusters": [c for c in _clusters() if c.pk != mapping.cluster_id],
        "can_write": can_write_team(request.user, mapping.team) and mapping.is_live and not mapping.wants_deletion})


def _clusters():
    return list(clusters_with_policies().order_by("order", "name"))


def _editable(request, pk: int) -> Mapping:
    mapping = reads.mapping_for(request.user, pk)
    if not can_write_team(request.user, mapping.team):
        raise PermissionDenied("Only owners and members of the team can change its mappings.")
    return mapping


def _initial(request, mapping: Mapping | None) -> dict:
    if mapping is None:
        keys = ("team", "cluster", "source_topic", "canonical_topic")
        return {k: request.GET[k] for k in keys if request.GET.get(k)} | {"rules": "[]", "recent": 0}
    version = mapping.current_version
    return {"team": mapping.team.slug, "cluster": mapping.cluster.name, "name": mapping.name,
            "source_topic": mapping.source_topic.name, "canonical_topic": mapping.canonical_topic.name,
            "description": mapping.description, "generation": mapping.generation, "recent": 0,
            "rules": json.dumps(version.rules if version else [], indent=1)}


@portal_view
def mapping_editor(request, pk: int | None = None):
    mapping = _editable(request, pk) if pk is not None else None
    if mapping is None and not writable_teams_of(request.user).exists():
        raise PermissionDenied("You can declare mappings only for a team in which you are an owner or a member.")
    if mapping is not None and (not mapping.is_live or mapping.wants_deletion):
        messages.info(request, f"{mapping.mapping_id} is deleted or being deleted.")
        return redirect("onboarding:mapping_detail", pk=mapping.pk)
    if request.method != "POST":
        form = MappingEditorForm(user=request.user, mapping=mapping, initial=_initial(request, mapping))
        return _render_editor(request, form, mapping)
    data = request.POST.copy()
    form = MappingEditorForm(data, user=request.user, mapping=mapping, initial=_initial(request, mapping))
    op = data.get("op", "preview")
    if not form.is_valid():
        return _render_editor(request, form, mapping)
    rules = form.rules_list()
    if rules is None or not isinstance(rules, list):
        form.add_error("rules", "The rules are not a JSON list; fix the text or remove it to start again.")
        return _render_editor(request, form, mapping)
    if op == "add":
        try:
            rule = form.picked_rule()
        except ValueError as exc:
            form.add_error("args" if "argument" in str(exc) else None, str(exc))
        else:
            # one rule per canonical field: picking a field again replaces its rule
            rules = [r for r in rules if not (isinstance(r, dict) and r.get("target") == rule["target"])] + [rule]
            data["rules"], data["args"], data["pick_source"] = json.dumps(rules, indent=1), "", ""
    elif op.startswith("remove-") and op[7:].isdigit() and int(op[7:]) < len(rules):
        rules.pop(int(op[7:]))
        data["rules"] = json.dumps(rules, indent=1)
    elif op == "save":
        saved = _save(request, form, mapping, rules)
        if saved is not None:
            return saved
    return _render_editor(request, form, mapping)


def _save(request, form: MappingEditorForm, mapping: Mapping | None, rules: list):
    """The answer after a successful save, or None with the refusal put on the form."""
    values = form.cleaned_data
    try:
        if mapping is None:
            team, source, canonical, errors = reads.mapping_inputs(
                request.user, team=values["team"], cluster=values["cluster"], source_topic=values["source_topic"],
                canonical_topic=values["canonical_topic"])
            if errors:
                raise ValidationError(errors)
            result = services.mapping_create(actor=request.user, team=team, name=values["name"], source_topic=source,
                                             canonical_topic=canonical, rules=rules, via=BROWSER,
                                             description=values["description"], note=values["note"])
        else:
            result = services.mapping_update(actor=request.user, mapping=mapping, rules=rules, via=BROWSER,
                                             description=values["description"], note=values["note"],
                                             expected_generation=values.get("generation"))
    except ValidationError as exc:
        form.save_errors = exc.message_dict
        form.add_service_errors({k: v for k, v in exc.message_dict.items()
                                 if not k.startswith(("rules[", "targets."))})
        return None
    except Conflict as exc:
        form.add_error(None, str(exc))
        return None
    if isinstance(result, ChangeRequest):
        return to_change_request(request, result)
    messages.success(request, f"Saved {result.mapping_id} version {result.current_version.number}; the mapper "
                              "runs it shortly.")
    return after_post(request, reverse("onboarding:mapping_detail", args=[result.pk]))


def _render_editor(request, form: MappingEditorForm, mapping: Mapping | None):
    context = {"form": form, "mapping": mapping, "creating": mapping is None, "section": "mappings",
               "place_fields": [form[n] for n in ("team", "cluster", "name", "source_topic", "canonical_topic")],
               "hints": ARGS_HINTS, **_workbench(request, form)}
    template = "mappings/_editor.html" if request.htmx else "mappings/editor.html"
    # htmx swaps only 2xx answers: the editor with its errors is the answer either way
    status = 400 if (not request.htmx and form.is_bound and (form.errors or context["rule_errors_count"])
                     and request.POST.get("op") == "save") else 200
    return render(request, template, context, status=status)


def _workbench(request, form: MappingEditorForm) -> dict:
    """The field trees, the rule rows with their errors and the preview for the form's current state."""
    value = form._value
    cluster = cluster_named(value("cluster")) if value("cluster") else None
    source = reads.topic_named(request.user, cluster, value("source_topic")) if cluster and value("source_topic") \
        else None
    canonical = reads.topic_named(request.user, cluster, value("canonical_topic"), canonical=True) \
        if cluster and value("canonical_topic") else None
    source_version, source_fields = reads.value_fields(source)
    canonical_version, target_fields = reads.value_fields(canonical)
    rules = form.rules_list()
    rules = rules if isinstance(rules, list) else []
    answer = {"errors": {}, "coverage": {}, "results": [], "unavailable": ""}
    team = form.mapping.team if form.mapping is not None else team_with_slug(value("team") or "")
    if team is not None and source is not None and canonical is not None:
        try:
            answer = mapping_preview(actor=request.user, team=team, source_topic=source, canonical_topic=canonical,
                                     rules=rules, events=value("events") or None,
                                     recent=_int(value("recent")), via=BROWSER)
        except PermissionDenied as exc:
            answer["unavailable"] = str(exc)
    errors = {**answer["errors"], **getattr(form, "save_errors", {})}
    for key in ("events", "recent"):
        if key in errors and not form.has_error(key):
            form.add_error(key, errors[key])
    targeted = {r.get("target") for r in rules if isinstance(r, dict)}
    rule_rows = [{"index": i, "rule": r, "args": _args_text(r), "errors": [m for k, ms in errors.items()
                                                   if k == f"rules[{i}]" or k.startswith(f"rules[{i}].") for m in ms]}
                 for i, r in enumerate(rules)]
    general = [m for k, ms in errors.items() if k == "rules" for m in ms]
    return {
        "source_topic": source, "canonical_topic": canonical, "source_version": source_version,
        "canonical_version": canonical_version,
        "source_fields": list(source_fields.values()),
        "target_fields": [{"spec": f, "covered": any(f.path == t or f.path.startswith(f"{t}.") or
                                                     (t or "").startswith(f"{f.path}.") for t in targeted),
                           "errors": errors.get(f"targets.{f.path}", [])} for f in target_fields.values()],
        "rule_rows": rule_rows, "rules_errors": general, "coverage": answer["coverage"],
        "rule_errors_count": sum(len(r["errors"]) for r in rule_rows) + len(general)
        + sum(len(ms) for k, ms in errors.items() if k.startswith("targets.")),
        "results": [_result_rows(r) for r in answer["results"]], "unavailable": answer["unavailable"],
        "picked_target": value("pick_target"), "picked_source": value("pick_source"),
    }


def _args_text(rule) -> str:
    return json.dumps(rule.get("args", {})) if isinstance(rule, dict) else json.dumps(rule)


def _int(raw) -> int:
    try:
        return int(raw or 0)
    except (TypeError, ValueError):
        return -1  # the service names the field


def _result_rows(result: dict) -> dict:
    """One previewed event as rows: each output field with its value and the rule and source that made it."""
    fields = []
    for path, origin in sorted(result["provenance"].items(), key=lambda item: item[1]["rule"]):
        node = result["output"]
        for key in path.split("."):
            node = node.get(key) if isinstance(node, dict) else None
        fields.append({"path": path, "value": json.dumps(node), "rule": origin["rule"], "fn": origin["fn"],
                       "sources": ", ".join(origin["sources"]) or "—",
                       "problems": result["problems"].get(path, [])})
    other = {k: v for k, v in result["problems"].items() if k not in result["provenance"]}
    error = result["error"] or {}
    return {**result, "fields": fields, "other_problems": other, "error_rule": error.get("map.error.rule", ""),
            "error_target": error.get("map.error.target", ""), "error_source": error.get("map.error.source", ""),
            "error_message": error.get("map.error.message", "")}


@portal_view
@require_POST
def mapping_action(request, pk: int, action: str):
    mapping = _editable(request, pk)
    try:
        if action == "delete":
            result = services.mapping_delete(actor=request.user, mapping=mapping, via=BROWSER)
            done = f"Deleting {mapping.mapping_id}; the mapper stops running it shortly."
        elif action == "promote":
            cluster = cluster_named(request.POST.get("cluster", ""))
            if cluster is None:
                raise ValidationError({"cluster": ["Choose the cluster to promote to."]})
            result = services.mapping_promote(actor=request.user, mapping=mapping, cluster=cluster, via=BROWSER)
            done = f"Promoted {mapping.mapping_id} to {cluster.name}."
        elif action == "rollback":
            result = services.mapping_rollback(actor=request.user, mapping=mapping,
                                               number=_int(request.POST.get("version")), via=BROWSER)
            done = f"{mapping.mapping_id} is back on the rules of version {request.POST.get('version')}."
        else:
            return render(request, "onboarding/404.html", {"reason": "No such action."}, status=404)
    except ValidationError as exc:
        show_refusal(request, exc)
        return redirect("onboarding:mapping_detail", pk=mapping.pk)
    if isinstance(result, ChangeRequest):
        return to_change_request(request, result)
    messages.success(request, done)
    return after_post(request, reverse("onboarding:mapping_detail", args=[result.pk]))
