"""The periodic safety net: retry what is due, look for drift in what is ready.

Because Postgres holds every desired change, a lost Celery message, a Redis restart or a dead
worker only delays work until the next sweep.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from onboarding.models import Cluster
from onboarding.platform import PlatformError
from onboarding.reconcile.drift import check_drift
from onboarding.reconcile.runner import due_topics

log = logging.getLogger(__name__)


def sweep() -> dict:
    """Return what was queued and checked, per cluster name."""
    from onboarding.services.scheduling import reconcile_later

    summary = {}
    now = timezone.now()
    for cluster in Cluster.objects.filter(is_active=True):
        entry = summary[cluster.name] = {}
        if due_topics(cluster.pk).exists():
            reconcile_later(cluster.pk, 0)
            entry["reconcile"] = "queued"
        interval = timedelta(seconds=cluster.reconcile_interval_seconds)
        if cluster.last_checked_at is None or now - cluster.last_checked_at >= interval:
            try:
                report = check_drift(cluster.pk)
            except PlatformError as exc:
                log.warning("drift check of %s failed: %s", cluster.name, exc)
                entry["drift_check"] = str(exc)
                continue
            Cluster.objects.filter(pk=cluster.pk).update(last_checked_at=now)
            entry["drift_check"] = {"checked": report.checked, "drifted": report.drifted,
                                    "reverting": report.reverting, "healed": report.healed}
            if report.reverting:
                reconcile_later(cluster.pk, 0)
    return summary
