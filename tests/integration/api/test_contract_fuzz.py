"""Contract fuzzing: schemathesis generates requests for every operation of the OpenAPI document and
sends them to the live WSGI server (real database, registry and Kafka), as a team owner and as an
outsider. Every answer must be below 500 and match the document: a documented status code, a
documented content type and a body of the documented schema.

The budget is small and fixed (EXAMPLES per operation and generation mode, deterministic generation,
no shrinking, MAX_CASES in all), so a run takes a few minutes on two cores. Operations with an
``{id}`` are tried both with generated ids and with the id of a real object of the right kind, so
updates, decisions and deletes reach the services. No Celery worker runs: nothing is applied to Kafka.

Set CONTRACT_FUZZ_EXAMPLES to fuzz harder locally.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from onboarding.api.throttling import SharedUserRateThrottle
from onboarding.models import ApiToken, AuditEvent, Schema, Subscription
from onboarding.notifications.webhooks import webhook_create
from onboarding.services.service_accounts import service_account_create
from onboarding.services.subscriptions import subscription_request
from tests.fixtures.schemas import add_version
from tests.integration.subscriptions.helpers import make_topic

EXAMPLES = int(os.environ.get("CONTRACT_FUZZ_EXAMPLES", "3"))
MAX_CASES = 2_000  # per actor: the cap on the run time, whatever the document grows to
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
AVRO = json.dumps({"type": "record", "name": "Order", "fields": [{"name": "id", "type": "string"}]})


@dataclass
class Tally:
    actor: str
    cases: int = 0
    operations: set[str] = field(default_factory=set)
    failures: dict[str, str] = field(default_factory=dict)  # one per (operation, failure title)
    seconds: dict[str, float] = field(default_factory=dict)  # time the server took, per operation

    def summary(self) -> str:
        slowest = sorted(self.seconds.items(), key=lambda item: -item[1])[:3]
        return (f"contract fuzz as {self.actor}: {self.cases} cases over {len(self.operations)} operations, "
                f"{len(self.failures)} failures (server time {sum(self.seconds.values()):.0f} s; slowest: "
                + ", ".join(f"{label} {spent:.1f} s" for label, spent in slowest) + ")")


class Credentials:
    """The actor's bearer token; a new one when a fuzzed request revoked it (tokens/{id}/revoke)."""

    def __init__(self, user):
        self.user = user
        self.token, self.plain = ApiToken.new(user=user, name="contract fuzz", scope=ApiToken.Scope.WRITE)

    def headers(self) -> dict[str, str]:
        if not ApiToken.objects.filter(pk=self.token.pk, revoked_at__isnull=True).exists():
            self.token, self.plain = ApiToken.new(user=self.user, name="contract fuzz", scope=ApiToken.Scope.WRITE)
        return {"Authorization": f"Bearer {self.plain}"}


@pytest.fixture
def estate(cluster, prod_cluster, payments, alice, clinical, carol, topic_name, registry_subjects):
    """Payments' resources, one of each kind, so fuzzed ids can name real objects."""
    topic = make_topic(alice, cluster, payments, name=topic_name("fuzz"))
    schema = Schema.objects.create(topic=topic, side="value", format="AVRO", compatibility="BACKWARD")
    registry_subjects.append(schema.subject)
    add_version(schema, json.loads(AVRO))
    account, _ = service_account_create(actor=alice, cluster=cluster, team=payments, name="fuzz")
    source = make_topic(carol, cluster, clinical)
    subscription = subscription_request(actor=alice, subscriber=payments, source=source, service_account=account,
                                        destination=None, mode=Subscription.Mode.DIRECT, reason="fuzzing",
                                        via=AuditEvent.Via.API)
    hook, _ = webhook_create(actor=alice, team=payments, name="fuzz", url="https://hooks.example.org/fuzz",
                             events=["change_request.created"])
    spare, _ = ApiToken.new(user=alice, name="spare", scope=ApiToken.Scope.READ)
    return {"topics": topic.pk, "schemas": schema.pk, "service-accounts": account.pk,
            "subscriptions": subscription.pk, "webhooks": hook.pk, "tokens": spare.pk, "teams": payments.pk,
            "clusters": cluster.pk, "slug": payments.slug}


@pytest.fixture
def unthrottled(monkeypatch):
    # The fuzzer sends hundreds of requests a minute; throttling has its own tests and would only
    # turn the rest of the run into 429s.
    monkeypatch.setattr(SharedUserRateThrottle, "rate", "1000000/min", raising=False)


def fixed_parameters(path: str, estate: dict) -> dict | None:
    """A real object's id for the ``{id}``/``{slug}`` of this path, or None when there is none to name."""
    resource = path.removeprefix("/api/v1/").split("/", 1)[0]
    parameters = {}
    if "{id}" in path and resource in estate:
        parameters["id"] = estate[resource]
    if "{slug}" in path:
        parameters["slug"] = estate["slug"]
    if "{number}" in path:
        parameters["number"] = 1
    return parameters or None


def fuzz(base_url: str, credentials: Credentials, estate: dict, tally: Tally) -> int:
    """Fuzzes every operation; returns how many the document has."""
    schema = schemathesis.openapi.from_url(f"{base_url}/api/schema/", headers=credentials.headers(), timeout=60)
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        fixed = fixed_parameters(operation.path, estate)
        for mode in MODES:
            for path_parameters in ([None, fixed] if fixed else [None]):
                if tally.cases >= MAX_CASES:
                    return len(operations)
                strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
                run_examples(strategy, base_url, credentials, tally)
    return len(operations)


def run_examples(strategy, base_url: str, credentials: Credentials, tally: Tally) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def send(case):
        if tally.cases >= MAX_CASES:
            return
        tally.cases += 1
        tally.operations.add(case.operation.label)
        headers = credentials.headers()
        response = case.call(base_url=base_url, headers=headers, timeout=60)
        label = case.operation.label
        tally.seconds[label] = tally.seconds.get(label, 0.0) + response.elapsed
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                tally.failures.setdefault(f"{case.operation.label}: {failure.title}",
                                          f"{failure.message[:600]}\n    {case.as_curl_command(headers=headers)}")

    send()


@pytest.mark.timeout(900)
@pytest.mark.parametrize("actor", ["owner", "outsider"])
def test_every_operation_answers_as_documented_and_never_500(live_server, unthrottled, estate, alice, carol, actor,
                                                             capsys):
    credentials = Credentials(alice if actor == "owner" else carol)
    tally = Tally(actor=f"{actor} ({credentials.user.username})")

    documented = fuzz(live_server.url, credentials, estate, tally)

    with capsys.disabled():
        print(f"\n{tally.summary()}")
    assert len(tally.operations) == documented, f"only {len(tally.operations)} of {documented} operations were " \
                                                f"fuzzed within MAX_CASES={MAX_CASES}"
    assert not tally.failures, tally.summary() + "\n\n" + "\n\n".join(
        f"{key}\n    {detail}" for key, detail in sorted(tally.failures.items()))
