"""Isolation matrix: every REST endpoint and browser view, tried as every role, against a table.

Each (row, role) pair is one test, on the same fresh World (the named actors and one of each object,
made through the services once; every test's changes are rolled back), so a delete or a rotate for
one role never shows in another's test. A refused request must change nothing: no audit record
appears. An allowed one must write its ``effect`` (the audit action), as that role. A hidden object
(404) must not be named in the answer, and lists must never show the outsider what is hidden from them.

Coverage is enforced: ``test_every_route_has_a_row`` walks the URL resolver (the /api/v1/ router and
the ``onboarding`` namespace) and fails with the routes and methods that have no row. The admin gets
its own smaller matrix, one case per registered ModelAdmin.

Adding a row for a new route (one line in ``matrix_table.py``, in API or BROWSER; change requests, tokens,
teams, webhooks, history, search, sensitive fields and peek are in ``matrix_table_governance.py``)::

    row("api:token-detail", "DELETE", "alice_token", "login 404 404 404 ok ok", effect="apitoken.revoke"),

- route and method: the URL name with its namespace, and the HTTP method;
- target: a World property (``matrix_support.World``) whose pk fills the URL; add a ``cached_property``
  there (or in ``matrix_governance.GovernanceObjects``), built through the services, when the route needs
  a new kind of object (``args=`` for other URL arguments, ``body=`` for the request data, ``query=`` for
  the query string);
- the six outcomes, in the order anon, carol (outsider), vera (viewer), bob (member), alice (owner),
  olivia (operator): ``ok``, ``403``, ``404``, ``login``, ``400`` (the form does not offer the choice)
  or ``bounce`` (a browser button the service refused: back to the page with an error message);
- ``effect``: the audit action an allowed write records (leave it out for reads);
- ``listed``: World objects a list answer must show to insiders and operators, and never to carol.

A route that is not a resource (docs, login, ...) goes in NOT_RESOURCES with the reason instead.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.db import transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from onboarding.models import (
    Aggregation,
    ApiToken,
    AuditEvent,
    ChangeRequest,
    CodeTable,
    Connector,
    Mapping,
    OffsetReset,
    Schema,
    ServiceAccount,
    Subscription,
    Team,
    Topic,
    Webhook,
)
from onboarding.services.clusters import cluster_create
from tests.fixtures.eventstore import connect_url, event_store_uri
from tests.integration.access.matrix_support import (
    BOUNCE,
    FORBIDDEN,
    HIDDEN,
    INVALID,
    LOGIN,
    OK,
    ROLES,
    World,
)
from tests.integration.access.matrix_table import ROWS

pytestmark = pytest.mark.django_db

# Routes with no resource behind them, which the matrix does not cover, and why.
NOT_RESOURCES = {
    "login": "the login form itself: open to everyone by design",
    "logout": "ends the caller's own session; acts on no resource",
    "api-schema": "the OpenAPI document: describes the API, holds no data",
    "api-docs": "the interactive API docs page: static, holds no data",
    "api:not-found": "the JSON 404 answer for unknown /api/v1/ paths",
    "healthz": "liveness probe: answers 'ok', touches nothing",
    "readyz": "readiness probe: reports whether dependencies answer, names no resource",
    "metrics": "Prometheus scrape: aggregate counts only; guarded by METRICS_BEARER_TOKEN/METRICS_ALLOWED_IPS",
}
# Namespaces checked by other tests here.
OTHER_MATRICES = {"admin": "the Django admin: test_every_admin_changelist_is_for_operators_only"}
BROWSER_METHODS = ("GET", "POST")
API_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker):
    """The world, made once in a transaction around the module and rolled back at its end; each test's
    own transaction nests inside it (a savepoint), so no test sees what another one changed."""
    # The event store and Connect of the stack, for the module: the `settings` fixture lives for one test only.
    store = override_settings(EVENT_STORE_URI=event_store_uri(), EVENT_STORE_CONNECT_URI=event_store_uri(),
                              EVENT_STORE_DATABASE="matrix", CONNECT_URL=connect_url())
    with django_db_blocker.unblock(), store, transaction.atomic():
        # The `cluster` fixture's cluster, made here because that fixture lives for one test only.
        cluster = cluster_create(actor=None, name="local", environment="dev",
                                 bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS,
                                 registry_url=settings.SCHEMA_REGISTRY_URL, reconcile_interval_seconds=5)
        made = World(cluster)
        try:
            yield made
        finally:
            transaction.set_rollback(True)
            made.remove_broker_topics()
            made.stop_preview_engine()


@pytest.fixture
def world(db, module_world):
    return module_world


# ---------------------------------------------------------------------------------------------- the matrix

@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("line", ROWS, ids=lambda line: line.id)
def test_each_role_gets_exactly_what_the_table_says(world, line, role):
    expected = line.expected[role]
    url = reverse(line.route, args=line.args(world))
    query = line.query(world) if callable(line.query) else line.query
    data = line.body(world) if line.body else None
    listed = {name: world.obj(name) for name in line.listed}
    api = line.route.startswith("api:")
    client = world.api_client(role) if api else world.browser_client(role)
    last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    send = getattr(client, line.method.lower())
    target = f"{url}?{query}" if query else url
    if api:
        response = send(target, data, format="json")
    else:
        response = send(target, data or {})

    code, where = response.status_code, response.get("Location", "")
    to_login = code == 302 and where.startswith("/accounts/login/")
    written = list(AuditEvent.objects.filter(pk__gt=last_event).values_list("action", "actor_name"))
    context = f"{line.method} {url} as {role}: expected {expected}, got {code} {where}".strip()
    if expected == OK:
        assert 200 <= code < 400 and not to_login, context
        if line.effect:
            assert (line.effect, role) in written, f"{context}; audit records written: {written}"
        else:
            assert written == [], f"{context}; a read wrote audit records: {written}"
    else:
        assert written == [], f"{context}; a refused request wrote audit records: {written}"
        if expected == LOGIN:
            assert (code == 401) if api else to_login, context
        elif expected == BOUNCE:
            errors = [m.message for m in get_messages(response.wsgi_request) if m.level == message_levels.ERROR]
            assert code == 302 and not to_login and errors, f"{context}; messages: {errors}"
        else:
            assert code == {FORBIDDEN: 403, HIDDEN: 404, INVALID: 400}[expected], context
    if expected == HIDDEN and line.target:
        assert marker(world.obj(line.target)) not in response.content.decode(), f"{context}: names what it hides"
    if expected == OK and listed:
        shown = listed_in(response, api)
        for name, obj in listed.items():
            assert (marker(obj, api) in shown) == (role != "carol"), f"{context}: {name} listed wrongly"


# Audited requests that only read, sent as a POST because their question is a document: a read token may send them.
READS_SENT_AS_POST = {"event_store.query"}
API_WRITES = [line for line in ROWS if line.route.startswith("api:") and line.method not in ("GET", "HEAD", "OPTIONS")
              and line.effect and line.effect not in READS_SENT_AS_POST and line.expected["alice"] == OK]


@pytest.mark.parametrize("line", API_WRITES, ids=lambda line: line.id)
def test_a_read_scope_token_changes_nothing(world, line):
    """Alice may make every one of these changes with a write token (the table says so); with a read token she is
    refused (403) and nothing is written."""
    token = ApiToken.new(user=world.alice, name="matrix-read", scope=ApiToken.Scope.READ)[1]
    client = world.api_client("anon")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = reverse(line.route, args=line.args(world))
    query = line.query(world) if callable(line.query) else line.query
    last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    response = getattr(client, line.method.lower())(f"{url}?{query}" if query else url,
                                                    line.body(world) if line.body else None, format="json")

    written = list(AuditEvent.objects.filter(pk__gt=last_event).values_list("action", flat=True))
    assert (response.status_code, written) == (403, []), f"{line.method} {url} with a read token"


def test_a_read_scope_token_may_query_the_event_store(world):
    token = ApiToken.new(user=world.alice, name="matrix-read", scope=ApiToken.Scope.READ)[1]
    client = world.api_client("anon")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = client.post(reverse("api:event-store-query", args=[world.stored_topic.name]), {"limit": 5},
                           format="json")

    assert response.status_code == 200, response.content
    assert AuditEvent.objects.filter(action="event_store.query", actor_name="alice").exists()


def marker(obj, api: bool = False) -> str:
    """What identifies an object in an answer: its name where it has one, else its id (API) or page."""
    if isinstance(obj, Topic):
        return obj.name
    if isinstance(obj, Schema):
        return obj.subject
    if isinstance(obj, ServiceAccount):
        return obj.username
    if isinstance(obj, Team):
        return obj.slug
    if isinstance(obj, Subscription) and not api:
        return reverse("onboarding:subscription_detail", args=[obj.pk])
    if isinstance(obj, ChangeRequest) and not api:
        return reverse("onboarding:change_request_detail", args=[obj.pk])
    if isinstance(obj, Webhook | ApiToken):
        return obj.name
    if isinstance(obj, Connector):
        return obj.name if api else obj.connector_name
    if isinstance(obj, Aggregation):
        return obj.name if api else obj.definition_id
    if isinstance(obj, Mapping):
        return obj.name if api else obj.mapping_id
    if isinstance(obj, CodeTable):
        return obj.name
    if isinstance(obj, OffsetReset):
        return obj.group_id  # its id is a bare number any page may contain
    return str(obj.pk)


def listed_in(response, api: bool) -> str | set[str]:
    """What a list answer shows: the identifying values of its items (API), or the page's text (browser)."""
    if not api:
        return response.content.decode()
    items = response.json()
    items = items["results"] if isinstance(items, dict) else items
    items = [*items, *(item["topic"] for item in items if isinstance(item.get("topic"), dict))]  # search hits
    return {str(item[key]) for item in items for key in ("name", "subject", "username", "slug", "id") if key in item}


# ---------------------------------------------------------------------------------------------- coverage

def _methods(pattern: URLPattern, api: bool) -> set[str]:
    callback = pattern.callback
    if getattr(callback, "actions", None):  # a viewset route: the router knows its methods
        return {method.upper() for method in callback.actions} & set(API_METHODS)
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is not None:
        return {m for m in API_METHODS if hasattr(view_class, m.lower())}
    # Function views: the methods require_http_methods allows, else both of a form's.
    wrapped = callback
    while wrapped is not None:
        for name, cell in zip(wrapped.__code__.co_freevars, wrapped.__closure__ or (), strict=False):
            if name == "request_method_list":
                return set(cell.cell_contents) & set(BROWSER_METHODS + API_METHODS)
        wrapped = getattr(wrapped, "__wrapped__", None)
    return set(BROWSER_METHODS)


def resolver_routes(patterns=None, namespace: str = "") -> dict[str, set[str]]:
    """Every named route (``namespace:name``) with its methods, from the live URL configuration."""
    found: dict[str, set[str]] = {}
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace]))
            for name, methods in resolver_routes(pattern.url_patterns, inner).items():
                found.setdefault(name, set()).update(methods)
            continue
        name = f"{namespace}:{pattern.name}" if namespace else str(pattern.name or pattern.pattern)
        found.setdefault(name, set()).update(_methods(pattern, api=namespace == "api"))
    return found


def test_every_route_has_a_row():
    rows = {(line.route, line.method) for line in ROWS}
    missing, covered = [], set()
    for name, methods in sorted(resolver_routes().items()):
        if name in NOT_RESOURCES or name.split(":")[0] in OTHER_MATRICES:
            continue
        for method in sorted(methods):
            if (name, method) in rows:
                covered.add((name, method))
            else:
                missing.append(f"{name} {method}")

    assert missing == [], "routes without a row in matrix_table.py:\n" + "\n".join(missing)
    assert rows - covered == set(), f"rows for routes that do not exist: {sorted(rows - covered)}"


def test_the_table_covers_the_api_router_and_the_browser_app():
    names = {line.route for line in ROWS}
    assert {name for name in resolver_routes() if name.startswith("api:")} - names == {"api:not-found"}
    assert any(name.startswith("onboarding:") for name in names)


# ---------------------------------------------------------------------------------------------- the admin

ADMIN_MODELS = sorted(f"{model._meta.app_label}.{model._meta.model_name}" for model in admin.site._registry)


@pytest.mark.parametrize("role", ["anon", "alice", "olivia"])
@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_every_admin_changelist_is_for_operators_only(world, model, role):
    url = reverse("admin:{}_{}_changelist".format(*model.split(".")))

    response = world.browser_client(role).get(url)

    if role == "olivia":
        assert response.status_code == 200, f"{url} as {role}"
    else:
        assert response.status_code == 302, f"{url} as {role}"
        assert response["Location"].startswith(f"{reverse('admin:login')}?next="), f"{url} as {role}"
