"""Claims, backoff and outcome bookkeeping shared by the reconcilers (topics, schemas).

A row that a run works on carries the run's ``claim_token``; every later write by that run is
conditional on the token, and success also on the generation it claimed, so a change saved during
the run is never marked applied. A claim older than the lease belongs to a dead worker and is taken over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from onboarding.models import ResourceStatus
from onboarding.platform import PlatformError

DUE_STATUSES = [ResourceStatus.PENDING, ResourceStatus.FAILED, ResourceStatus.DELETING]


@dataclass
class RunReport:
    run_id: str
    claimed: int = 0
    ready: int = 0
    deleted: int = 0
    failed: int = 0
    retry_in: float | None = None
    errors: dict[str, str] = field(default_factory=dict)


def backoff_seconds(failures: int) -> float:
    """Exponential backoff: 2, 4, 8 ... seconds, capped (RECONCILE_MAX_BACKOFF_SECONDS)."""
    base = settings.RECONCILE_BACKOFF_BASE_SECONDS
    return float(min(settings.RECONCILE_MAX_BACKOFF_SECONDS, base * 2 ** max(0, failures - 1)))


def due(queryset: QuerySet) -> QuerySet:
    """Work that a run should pick up now: new generations, retries whose backoff has passed, and
    claims left behind by a worker that died (older than the lease)."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.RECONCILE_CLAIM_LEASE_SECONDS)
    unclaimed_due = Q(claim_token="") & Q(status__in=DUE_STATUSES) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    abandoned = ~Q(claim_token="") & Q(claimed_at__lt=stale)
    return queryset.filter(unclaimed_due | abandoned)


def claim(due_rows: QuerySet, run_id: str, *, related: tuple[str, ...] = ()) -> list:
    """Take the due rows for this run (loaded with ``related``). Rows locked by a concurrent run are
    skipped, so two workers never apply the same generation."""
    model = due_rows.model
    with transaction.atomic():
        # of=("self",): a filter across a relation (schema -> topic) must not lock the related rows,
        # or a schema run would make the topic run skip those topics. no_key: FOR UPDATE would also skip (and
        # block) rows that a concurrent insert merely references, e.g. a topic while its schema is saved.
        locked = due_rows.select_for_update(no_key=True, skip_locked=True, of=("self",))
        ids = list(locked.values_list("id", flat=True))
        if not ids:
            return []
        model.objects.filter(id__in=ids).update(
            claim_token=run_id, claimed_at=timezone.now(), claimed_generation=F("generation"))
        model.objects.filter(id__in=ids).exclude(status=ResourceStatus.DELETING).update(
            status=ResourceStatus.APPLYING)
    return list(model.objects.select_related(*related).filter(id__in=ids, claim_token=run_id))


def settle(model, report: RunReport, *, done: list[int], gone: list[int], now) -> None:
    """Mark applied rows ready and deleted rows deleted, unless their desired state changed meanwhile."""
    mine = model.objects.filter(claim_token=report.run_id)
    unchanged = Q(generation=F("claimed_generation"))
    report.ready = mine.filter(unchanged, id__in=done).update(
        status=ResourceStatus.READY, observed_generation=F("generation"), failures=0, next_attempt_at=None,
        last_error="", drift=None, observed=None, ready_at=now, claim_token="")
    report.deleted = mine.filter(unchanged, id__in=gone).update(
        status=ResourceStatus.DELETED, observed_generation=F("generation"), deleted_at=now, last_error="",
        failures=0, next_attempt_at=None, claim_token="")
    # Changed while we applied: leave it pending for the next run, which is queued below.
    changed = mine.filter(id__in=done + gone).update(claim_token="")
    if changed:
        report.retry_in = 0.0


def record_failure(model, row, error: PlatformError, now, report: RunReport, *, key: str,
                   status: str | None = None) -> None:
    """Keep the error and schedule the next try: backoff when retrying can help, the longest wait when
    only a change of desired state can (that change resets the backoff). A row being deleted stays
    ``deleting`` unless the caller says otherwise."""
    failures = row.failures + 1
    delay = backoff_seconds(failures) if error.retryable else settings.RECONCILE_MAX_BACKOFF_SECONDS
    status = status or (ResourceStatus.DELETING if row.wants_deletion else ResourceStatus.FAILED)
    mine = model.objects.filter(pk=row.pk, claim_token=report.run_id)
    if mine.exclude(generation=F("claimed_generation")).update(claim_token=""):
        report.retry_in = 0.0  # a newer generation arrived meanwhile: apply that instead
        return
    updated = mine.update(
        status=status, failures=failures, next_attempt_at=now + timedelta(seconds=delay), last_error=str(error),
        claim_token="")
    if updated:
        report.failed += 1
        report.errors[key] = str(error)
        if error.retryable:
            report.retry_in = delay if report.retry_in is None else min(report.retry_in, delay)
