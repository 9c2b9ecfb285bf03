"""Markers by the services a test needs, so a developer can run one tier (``pytest -m "not kafka"``).

A test is marked from where it lives and what it uses: its fixtures, and the modules its test module
imports. A test module that imports a reconciler, a Kafka adapter or confluent-kafka needs Kafka; one that
imports the schema reconciler or the registry adapter needs the registry; a browser test needs chromium.
The marks select; they never skip: every test still runs in the whole suite.
"""

from __future__ import annotations

import inspect

import pytest

KAFKA_FIXTURES = {"kafka_admin", "kafka_sasl_bootstrap", "kafka_prod_admin", "kafka_prod_sasl_bootstrap",
                  "broker_topic", "celery_worker", "celery_beat"}
REGISTRY_FIXTURES = {"registry", "registry_http", "registry_url", "registry_prod_url", "registry_subjects",
                     "make_schema", "celery_worker"}
BROWSER_FIXTURES = {"browser", "page"}
KAFKA_MODULES = ("confluent_kafka", "onboarding.reconcile", "onboarding.platform.kafka",
                 "onboarding.platform.compacted", "onboarding.routing.router", "onboarding.routing.rules",
                 "onboarding.peek.service", "onboarding.services.imports", "tests.fixtures.topics")
REGISTRY_MODULES = ("onboarding.reconcile.schemas", "onboarding.platform.registry", "tests.fixtures.schemas")
TIERS = {"unit": "pure logic: no service at all", "kafka": "needs the Kafka broker",
         "registry": "needs the schema registry", "browser": "drives Debian's chromium"}


def _imported(module) -> set[str]:
    names = set()
    for value in vars(module).values():
        if inspect.ismodule(value):
            names.add(value.__name__)
        else:
            names.add(getattr(value, "__module__", None) or "")
    return names


def _uses(names: set[str], prefixes: tuple[str, ...]) -> bool:
    return any(name.startswith(prefixes) for name in names)


def mark_tiers(items, root: str) -> None:
    seen: dict[str, set[str]] = {}
    for item in items:
        path = str(item.path)
        fixtures = set(getattr(item, "fixturenames", ()))
        module = getattr(item, "module", None)
        imported = seen.setdefault(path, _imported(module) if module else set())
        if path.startswith(f"{root}/unit/"):
            item.add_marker(pytest.mark.unit)
        if path.startswith((f"{root}/acceptance/", f"{root}/faults/")) or fixtures & KAFKA_FIXTURES \
                or _uses(imported, KAFKA_MODULES):
            item.add_marker(pytest.mark.kafka)
        if path.startswith((f"{root}/acceptance/", f"{root}/faults/")) or fixtures & REGISTRY_FIXTURES \
                or _uses(imported, REGISTRY_MODULES):
            item.add_marker(pytest.mark.registry)
        if path.startswith(f"{root}/e2e/") or fixtures & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
