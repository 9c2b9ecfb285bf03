"""Fixtures shared by every test: connections to the real services the stack script started.

Nothing here is a fake: the Kafka admin client talks to the broker on its PLAINTEXT listener,
SASL clients to its SCRAM listener, the registry over HTTP, Celery through Redis to a worker
process, and the browser is Debian's chromium.
"""

import os
import secrets
import uuid

import pytest

from tests.tiers import mark_tiers

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls from a
# thread with a running loop unless told that this is deliberate.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = [
    "tests.fixtures.services",
    "tests.fixtures.actors",
    "tests.fixtures.clients",
    "tests.fixtures.topics",
    "tests.fixtures.schemas",
    "tests.fixtures.browser",
    "tests.fixtures.receivers",  # before workers, which imports it
    "tests.fixtures.workers",
    "tests.fixtures.history",
    "tests.fixtures.changes",
    "tests.fixtures.tracing",
]


# The suite's tables on the shared broker carry the test database's name: its runs never tombstone the rows of a
# developer's `scripts/dev up` (or of another run beside it, on a database of its own). The environment carries them
# to the workers the suite starts; the override, to this process's settings.
RUN = os.environ.get("DJANGO_TEST_DATABASE_NAME") or "tests"
TEST_TABLES = {
    "GATEWAY_GRANTS_TOPIC": f"_portal.gateway-grants.{RUN}",
    "ROUTER_RULES_TOPIC": f"_portal.routing-rules.{RUN}",
    "MAPPER_TABLE_TOPIC": f"_portal.mappings.{RUN}",
    "AGGREGATIONS_TOPIC": f"_portal.aggregations.{RUN}",
    "AGGREGATIONS_STATUS_TOPIC": f"_portal.aggregations-status.{RUN}",
}
# The suite's process principals (gateway, router, mapper, aggregation engine), which its access runs provision and
# its processes connect as: one per test database, so two runs on one broker (or a run and a developer's
# `scripts/dev up`) never narrow each other's ACLs; a new password per run, set by the run.
PRINCIPALS = {process: (f"portal-{process.lower()}.{RUN}", secrets.token_urlsafe(24))
              for process in ("GATEWAY", "ROUTER", "MAPPER", "AGGREGATOR")}
for process, (username, password) in PRINCIPALS.items():
    TEST_TABLES[f"{process}_KAFKA_USERNAME"], TEST_TABLES[f"{process}_KAFKA_PASSWORD"] = username, password
TEST_TABLES["GATEWAY_KAFKA_BOOTSTRAP_SERVERS"] = os.environ.get("KAFKA_SASL_BOOTSTRAP_SERVERS", "")
# scripts/aggregator (the engine the suite starts) reads its credentials under these names.
TEST_TABLES["AGGREGATOR_USERNAME"], TEST_TABLES["AGGREGATOR_PASSWORD"] = PRINCIPALS["AGGREGATOR"]
os.environ.update(TEST_TABLES)


@pytest.fixture(autouse=True, scope="session")
def _tables_of_the_suite():
    from django.test import override_settings

    with override_settings(**TEST_TABLES):
        yield


@pytest.fixture
def unique():
    """A short random suffix so tests never collide on broker or registry names."""
    return uuid.uuid4().hex[:10]


def pytest_collection_modifyitems(config, items):
    """Mark each test by the services it needs (tests/tiers.py)."""
    mark_tiers(items, str(config.rootpath / "tests"))
