"""``manage.py catalogue_rebuild [--batch N]``: rebuild every topic's catalogue search entry."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from onboarding.services.catalogue import REBUILD_BATCH, catalogue_rebuild


class Command(BaseCommand):
    """Rebuild the catalogue from topics, teams and schemas (after an upgrade, or to repair it).

    Services keep entries current as things change; this is for entries that never existed (topics
    registered before the catalogue) or data changed outside the services.
    """

    help = "Rebuild the catalogue's search entries of every live topic."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=REBUILD_BATCH, help="Topics per transaction.")

    def handle(self, *args, batch: int, **options):
        started = time.perf_counter()
        count = catalogue_rebuild(batch=batch)
        self.stdout.write(f"Indexed {count} topics in {time.perf_counter() - started:.1f} s.")
