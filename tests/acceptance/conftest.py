"""The acceptance tier: the portal's real processes on a database of their own, used over HTTP only.

One session-scoped stack serves every journey (tests/acceptance/stack.py). Its bootstrap is what an
operator does on a fresh install: `migrate`, `seed_demo` (operator, alice owning payments, bob owning
clinical, clusters local and local-prod) and `create_api_token operator`. Everyone else gets tokens
the way people do, from the /tokens/ page after logging in. Names on the shared brokers and
registries carry the run's id (`acc<run>`), so they never meet the in-process suite's or a
developer's; the demo's seeded topics are never relied on.
"""

from __future__ import annotations

import os
import uuid

import pytest

from tests.acceptance.cleanup import remove_run_leftovers
from tests.acceptance.http import Api, Browser
from tests.acceptance.processes import manage
from tests.acceptance.stack import AcceptanceStack

PASSWORDS = {"operator": "operator-demo-password", "alice": "alice-demo-password", "bob": "bob-demo-password"}
SERVERS = ["runserver", "gunicorn"]
HERE = os.path.dirname(__file__)


def pytest_collection_modifyitems(config, items):
    """Mark the tier; run the trace journeys after the others (so a first build of Jaeger, started in the background
    by `scripts/stack up`, has the whole tier to finish), and the server-log check after every other test."""
    traced, last = [], []
    for item in items:
        if str(item.path).startswith(HERE):
            item.add_marker(pytest.mark.acceptance)
            if item.path.name == "test_tracing.py":
                traced.append(item)
            if item.path.name == "test_zz_server_logs.py":
                last.append(item)
    for item in traced + last:
        items.remove(item)
        items.append(item)


@pytest.fixture(scope="session")
def stack():
    run = uuid.uuid4().hex[:6]
    portal = AcceptanceStack(run)
    try:
        portal.start()
        yield portal
    finally:
        portal.stop()
        for problem in remove_run_leftovers(f"acc{run}", portal.rules_topic, portal.grants_topic):
            print(f"acceptance cleanup: {problem}")


@pytest.fixture(scope="session")
def run(stack) -> str:
    """The run's marker in every name on the shared brokers: `payments.acc<run>-...`."""
    return f"acc{stack.run}"


@pytest.fixture(scope="session")
def servers(stack) -> dict:
    return {"runserver": stack.runserver, "gunicorn": stack.gunicorn}


@pytest.fixture(params=SERVERS)
def server(request, servers):
    """An API journey runs against both web servers: the README's runserver and the image's gunicorn."""
    return servers[request.param]


@pytest.fixture(scope="session")
def operator_token(stack) -> str:
    """The operator's first token, as on a fresh install: `manage.py create_api_token operator`."""
    return manage(stack.env, "create_api_token", "operator", "--name", "acceptance bootstrap").strip()


@pytest.fixture(scope="session")
def tokens(stack, operator_token) -> dict:
    """Personal write tokens of the demo's people; alice and bob make theirs on the /tokens/ page."""
    made = {"operator": operator_token}
    for username in ("alice", "bob"):
        made[username] = Browser(stack.runserver).log_in(username, PASSWORDS[username]).create_token(
            f"acceptance {username}")
    return made


@pytest.fixture(scope="session")
def as_user(tokens, servers):
    """as_user(username, server="gunicorn") -> an Api speaking for that person to that server."""

    def make(username: str, server=None) -> Api:
        target = server if server is not None else servers["gunicorn"]
        if isinstance(target, str):
            target = servers[target]
        return Api(target, tokens[username])

    return make


@pytest.fixture(scope="session")
def registry_url() -> str:
    return os.environ["SCHEMA_REGISTRY_URL"]
