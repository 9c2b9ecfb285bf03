"""What the beat's samplers (lag, traffic) share: the teams' name prefixes, one pass over every cluster, and a
bounded history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.db import models
from django.utils import timezone

from onboarding.models import Cluster, Team
from onboarding.platform.errors import PlatformError


def team_prefixes() -> tuple[str, ...]:
    """Every team's ``<slug>.``: what a team's topics and consumer groups are named under."""
    return tuple(f"{slug}." for slug in Team.objects.values_list("slug", flat=True))


def prune_older_than(model: type[models.Model], days: int, *, now=None) -> int:
    """Delete ``model``'s samples older than ``days`` (by ``sampled_at``); the number deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _ = model.objects.filter(sampled_at__lt=cutoff).delete()
    return deleted


def sample_every_cluster(sample: Callable[[Cluster], int], prune: Callable[[], int]) -> dict:
    """One sample of every cluster, then the prune. A cluster that does not answer is skipped (a gap in its plots)
    and named in the result, so one broker outage never stops the others' history."""
    written, failed = 0, []
    for cluster in Cluster.objects.order_by("name"):
        try:
            written += sample(cluster)
        except PlatformError as exc:
            failed.append(f"{cluster.name}: {exc}")
    return {"written": written, "pruned": prune(), "failed": failed}
