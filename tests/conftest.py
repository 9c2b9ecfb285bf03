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


# The suite's access runs converge the gateway's grants table to the test database's tokens: in a table of
# their own, so they never tombstone the grants of a developer's `scripts/dev up` on the same broker. The
# environment carries it to the workers the suite starts; the override, to this process's settings.
TEST_TABLES = {"GATEWAY_GRANTS_TOPIC": "_portal.gateway-grants.tests"}
# The same for the aggregation engine's tables: the suite's runs never tombstone a developer's definitions.
TEST_TABLES.update({"AGGREGATIONS_TOPIC": "_portal.aggregations.tests",
                    "AGGREGATIONS_STATUS_TOPIC": "_portal.aggregations-status.tests"})
# The suite's gateway principal, which its access runs provision and its gateways connect as: one per test
# database, so two runs on one broker never narrow each other's ACLs; a new password per run, set by the run.
TEST_TABLES.update({
    "GATEWAY_KAFKA_USERNAME": f"portal-gateway.{os.environ.get('DJANGO_TEST_DATABASE_NAME') or 'tests'}",
    "GATEWAY_KAFKA_PASSWORD": secrets.token_urlsafe(24),
    "GATEWAY_KAFKA_BOOTSTRAP_SERVERS": os.environ.get("KAFKA_SASL_BOOTSTRAP_SERVERS", ""),
})
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
