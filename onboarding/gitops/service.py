"""GitOps for teams: export a team's live resources as one declarative manifest, plan a submitted manifest
against the database, and apply it through the ordinary services (each change audited as usual).

Applying the same manifest twice changes nothing the second time: the planner finds every resource
unchanged, so no service is called, no audit record written and no generation bumped. Resources left out
of a manifest are planned as deletions, which are applied only when the caller says ``allow_deletes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from onboarding.errors import NotFound, PermissionDenied, ValidationError
from onboarding.gitops import manifest as manifests
from onboarding.gitops.apply import Applier
from onboarding.gitops.checks import account_name, clusters_named, manifest_errors
from onboarding.gitops.export import team_state
from onboarding.gitops.plan import Plan, plan
from onboarding.models import AuditEvent, Team
from onboarding.permissions import can_read_team, can_write_team


@dataclass
class ManifestResult:
    """A plan, and for an apply what was done; ``as_dict`` is the API's answer."""

    plan: Plan
    dry_run: bool
    results: list[dict] = field(default_factory=list)
    change_requests: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "summary": self.plan.summary(), "plan": self.plan.as_list(),
                "results": self.results, "change_requests": self.change_requests}


def _check_reader(actor, team: Team) -> None:
    if not can_read_team(actor, team):
        raise NotFound("No such team.")


def manifest_document(*, actor, team: Team) -> dict:
    """The team's live resources as a manifest document (mapping in render order)."""
    _check_reader(actor, team)
    return manifests.ordered(team_state(team).manifest)


def manifest_export(*, team: Team, actor=None) -> str:
    """The team's manifest as YAML: byte-identical while nothing changes. ``actor`` None: trusted callers."""
    if actor is not None:
        _check_reader(actor, team)
    return manifests.render(team_state(team).manifest)


def read_request(text: str | bytes, content_type: str = "") -> tuple[dict, dict]:
    """(request options, manifest document) from a request body; ManifestError if it cannot be read."""
    return manifests.split_options(manifests.load(text, content_type))


def _errors(exc: manifests.ManifestError) -> ValidationError:
    return ValidationError(exc.errors)


def _desired(document: dict, team: Team) -> dict:
    try:
        desired = manifests.validate(document)
    except manifests.ManifestError as exc:
        raise _errors(exc) from None
    for sub in desired["subscriptions"]:
        # "payments.reader" and "reader" name the same account; the plan compares the short name.
        sub["service_account"] = account_name(sub["service_account"], team) or sub["service_account"]
    return desired


def _prepared(actor, team: Team, text, content_type: str, document: dict | None):
    if document is None:
        try:
            _, document = read_request(text, content_type)
        except manifests.ManifestError as exc:
            raise _errors(exc) from None
    desired = _desired(document, team)
    state = team_state(team)
    steps = plan(desired, state.manifest)
    clusters = clusters_named(desired)
    errors = manifest_errors(actor=actor, team=team, desired=desired, state=state, plan=steps, clusters=clusters)
    if errors:
        raise ValidationError(errors)
    return state, steps, clusters


def manifest_plan(*, actor, team: Team, text: str | bytes = "", content_type: str = "",
                  document: dict | None = None) -> ManifestResult:
    """What applying the manifest would do, without changing anything (viewers may ask too)."""
    _check_reader(actor, team)
    _, steps, _ = _prepared(actor, team, text, content_type, document)
    return ManifestResult(plan=steps, dry_run=True)


def manifest_apply(*, actor, team: Team, text: str | bytes = "", content_type: str = "",
                   document: dict | None = None, allow_deletes: bool = False,
                   via: str = AuditEvent.Via.SYSTEM) -> ManifestResult:
    """Make the team's resources match the manifest, all or nothing: everything is checked first, then the
    services run in one transaction, so a refusal part-way leaves nothing applied."""
    _check_reader(actor, team)
    if not can_write_team(actor, team):
        raise PermissionDenied("Only owners and members of the team can apply its manifest.")
    with transaction.atomic():
        state, steps, clusters = _prepared(actor, team, text, content_type, document)
        if steps.deletions and not allow_deletes:
            names = ", ".join(f"{a.kind} {a.name}" for a in steps.deletions)
            raise ValidationError({"allow_deletes": [
                f"The manifest leaves out resources that would be deleted: {names}. Add them to the manifest, "
                "or apply with allow_deletes=true to delete them."]})
        outcome = Applier(actor=actor, team=team, state=state, clusters=clusters, via=via).run(steps)
    return ManifestResult(plan=steps, dry_run=False, results=outcome.results,
                          change_requests=outcome.change_requests)
