"""Make one cluster's Kafka Connect worker run the portal's connectors. Claim, apply, record, like the other
runs; task ``onboarding.reconcile_connectors``.

For each claimed live connector the run grants the worker's principal (``CONNECT_KAFKA_USERNAME``) what the
connector's topics need (the worker holds only its internal topics and groups by itself), writes the whole
config with ``PUT /connectors/<team>.<name>/config`` (create or update), brings it to its desired state
(running, paused, stopped) and reads the status back (connector and task states, the last trace). A deleted
connector is deleted on the worker. Rights no live connector needs any more are taken back afterwards.

A failure (the worker down, a rebalance, Kafka refusing an ACL, or the connector or a task reported FAILED right
after the apply) is recorded on the row with backoff; nothing saved is lost, since the desired state stays in
Postgres and the next run (or the sweep) writes it, restarting the tasks that had failed.

The drift check (``check_connector_drift``, from the sweep) compares the worker's config of every ready connector
with the portal's: a connector changed or deleted outside the portal becomes ``drifted`` with the observed config,
and is reverted at once when the cluster's drift reaction says so.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from onboarding import connector_rules as rules
from onboarding.models import Cluster, Connector, ResourceStatus
from onboarding.platform import PlatformError
from onboarding.platform.connect import Connect, ConnectorStatus, connect_connection_for
from onboarding.platform.connection import kafka_connection_for
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.platform.types import AclSpec
from onboarding.reconcile import claims
from onboarding.reconcile.claims import RunReport
from onboarding.reconcile.event_store_plan import event_store_sinks

log = logging.getLogger(__name__)
# The worker's internal topics, granted by whoever runs the worker (scripts/stack.d/connect.sh): never touched.
INTERNAL_PREFIX = "_portal.connect-"
# Kafka Connect names a sink connector's consumer group connect-<connector name>. The worker may read every such
# group by itself; deleting one (what an offsets reset of a sink does) is granted per connector here.
SINK_GROUP_PREFIX = "connect-"


def due_connectors(cluster_id: int):
    return claims.due(Connector.objects.filter(cluster_id=cluster_id))


def live_connectors(cluster_id: int):
    return Connector.objects.filter(cluster_id=cluster_id, delete_requested_at__isnull=True).exclude(
        status=ResourceStatus.DELETED)


def desired_config(c: Connector) -> dict[str, str]:
    return rules.rendered_config(name=c.connector_name, connector_class=c.connector_class, config=c.config,
                                 secret_refs=c.secret_refs)


def worker_principal() -> str:
    return f"User:{settings.CONNECT_KAFKA_USERNAME}"


def planned_acls(connectors, principal: str) -> set[AclSpec]:
    """The rights of the worker's principal that the live connectors need: read what sinks read (a pattern gets
    its team's prefix), write what they write, delete a sink's own group (offsets reset)."""
    specs: set[AclSpec] = set()

    def grant(name: str, pattern: str, *operations: str) -> None:
        specs.update(AclSpec("TOPIC", name, pattern, principal, op) for op in operations)

    for c in connectors:
        config = {k: rules.stringify(v) for k, v in c.config.items()}
        for topic in rules.split_topics(config.get("topics", "")):
            grant(topic, "LITERAL", "READ", "DESCRIBE")
        if config.get("topics.regex"):
            grant(f"{c.team.slug}.", "PREFIXED", "READ", "DESCRIBE")
        if config.get("topics") or config.get("topics.regex"):
            specs.add(AclSpec("GROUP", f"{SINK_GROUP_PREFIX}{c.connector_name}", "LITERAL", principal, "DELETE"))
        for key, value in rules.written_topic_keys(config).items():
            if value:
                grant(value, "PREFIXED" if key.endswith("prefix") else "LITERAL", "WRITE", "DESCRIBE", "CREATE")
    return specs


def reconcile_connectors(cluster_id: int) -> RunReport:
    report = RunReport(run_id=uuid.uuid4().hex)
    claimed = claims.claim(due_connectors(cluster_id), report.run_id, related=("team", "cluster"))
    report.claimed = len(claimed)
    cluster = Cluster.objects.filter(pk=cluster_id).first()
    if cluster is None or not claimed:
        return report
    now = timezone.now()
    errors: dict[int, PlatformError] = {}
    done, gone = [], []
    connection = connect_connection_for(cluster)
    if connection is None:
        error = PlatformError("This cluster has no Kafka Connect worker.", retryable=False, code="no_worker")
        for c in claimed:
            claims.record_failure(Connector, c, error, now, report, key=c.connector_name)
        return report
    try:
        admin = KafkaAcls(kafka_connection_for(cluster))
        principal = worker_principal()
        # The event store's sinks run on the same worker as the same principal: their rights are planned here
        # too, or this run would take them back (and the event store run takes back neither's).
        wanted = planned_acls([*live_connectors(cluster_id).select_related("team"), *event_store_sinks(cluster_id)],
                              principal)
        _grant(admin, principal, wanted)
        with Connect(connection) as connect:
            for c in claimed:
                try:
                    if c.wants_deletion:
                        connect.delete(c.connector_name)
                        gone.append(c.pk)
                    else:
                        had_failed = _reported_failed(c.connector_state, c.task_states)
                        connect.put_config(c.connector_name, desired_config(c))
                        connect.set_state(c.connector_name, c.desired_state)
                        restarted = had_failed and c.desired_state == Connector.DesiredState.RUNNING
                        if restarted:
                            # A new config does not restart a failed task: this run's retry does.
                            connect.restart(c.connector_name, include_tasks=True, only_failed=True)
                        status = connect.status(c.connector_name)
                        _store_status(c, status)
                        # Just restarted, the status may still be the old one: the next state check judges it.
                        if not restarted and status is not None and _reported_failed(status.connector_state,
                                                                                     status.tasks):
                            raise PlatformError(f"The worker reports the connector failed: {_first_line(status.error)}",
                                                retryable=True, code="connector_failed")
                        done.append(c.pk)
                except PlatformError as exc:
                    errors[c.pk] = exc
        _revoke(admin, principal, wanted)
    except PlatformError as exc:
        log.warning("connectors of cluster %s not applied: %s", cluster.pk, exc)
        for c in claimed:
            if c.pk not in done and c.pk not in gone:
                errors.setdefault(c.pk, exc)
    claims.settle(Connector, report, done=[pk for pk in done if pk not in errors],
                  gone=[pk for pk in gone if pk not in errors], now=now)
    for c in claimed:
        if c.pk in errors:
            claims.record_failure(Connector, c, errors[c.pk], now, report, key=c.connector_name)
    return report


def _grant(admin: KafkaAcls, principal: str, wanted: set[AclSpec]) -> None:
    missing = wanted - admin.describe_acls(principal)
    for _spec, error in admin.create_acls(missing).items() if missing else ():
        if error is not None:
            raise error


def _revoke(admin: KafkaAcls, principal: str, wanted: set[AclSpec]) -> None:
    """Take back rights no live connector needs; the worker's internal topics and its own groups stay."""
    extra = {s for s in admin.describe_acls(principal) if _per_connector(s)} - wanted
    if extra:
        for spec, error in admin.delete_acls(extra).items():
            if error is not None:
                log.warning("could not revoke %s: %s", spec.label(), error)


def _reported_failed(connector_state: str, tasks: list[dict]) -> bool:
    return connector_state == "FAILED" or any(t.get("state") == "FAILED" for t in tasks or [])


def _first_line(trace: str) -> str:
    return (trace or "no trace").strip().splitlines()[0][:500]


def _per_connector(spec: AclSpec) -> bool:
    if spec.resource_type == "TOPIC":
        return not spec.name.startswith(INTERNAL_PREFIX)
    return spec.resource_type == "GROUP" and spec.pattern == "LITERAL" and spec.name.startswith(SINK_GROUP_PREFIX)


def _store_status(c: Connector, status: ConnectorStatus | None) -> None:
    """Keep what the worker reported; written regardless of the claim, it is an observation, not desired state."""
    values = {"connector_state": status.connector_state if status else "",
              "task_states": status.tasks if status else [],
              "runtime_error": status.error[:4000] if status else "", "state_checked_at": timezone.now()}
    Connector.objects.filter(pk=c.pk).update(**values)
    for key, value in values.items():
        setattr(c, key, value)


# --------------------------------------------------------------------------------------------- states, drift

def refresh_states(cluster: Cluster, connect: Connect) -> int:
    """Read the status of every applied connector of the cluster; the number read."""
    count = 0
    for c in live_connectors(cluster.pk).filter(status__in=[ResourceStatus.READY, ResourceStatus.DRIFTED]
                                                ).select_related("team"):
        _store_status(c, connect.status(c.connector_name))
        count += 1
    return count


def config_differences(desired: dict[str, str], observed: dict[str, str] | None) -> dict:
    if observed is None:
        return {"missing": True}
    keys = sorted(set(desired) | set(observed))
    return {k: {"desired": desired.get(k), "observed": observed.get(k)} for k in keys
            if desired.get(k) != observed.get(k)}


def check_connector_drift(cluster: Cluster) -> dict:
    """Compare the worker's config of each ready (or drifted) connector with the portal's; flag drift, or
    revert it when the cluster reverts drift. Also refreshes the reported states."""
    connection = connect_connection_for(cluster)
    if connection is None or not live_connectors(cluster.pk).exists():
        return {"checked": 0}
    drifted, reverted, failed, checked = [], [], [], 0
    with Connect(connection) as connect:
        for c in live_connectors(cluster.pk).filter(
                status__in=[ResourceStatus.READY, ResourceStatus.DRIFTED], claim_token="").select_related("team"):
            checked += 1
            observed = connect.config(c.connector_name)
            diff = config_differences(desired_config(c), observed)
            _store_status(c, connect.status(c.connector_name) if observed is not None else None)
            if not diff:
                if c.status == ResourceStatus.DRIFTED:
                    Connector.objects.filter(pk=c.pk, generation=c.generation).update(
                        status=ResourceStatus.READY, drift=None)
                if c.desired_state == Connector.DesiredState.RUNNING and _reported_failed(c.connector_state,
                                                                                         c.task_states):
                    _fail_for_restart(c)
                    failed.append(c.connector_name)
                continue
            drift = {"differences": diff, "observed_config": observed}
            if cluster.drift_reaction == Cluster.DriftReaction.REVERT:
                Connector.objects.filter(pk=c.pk, generation=c.generation).update(
                    status=ResourceStatus.PENDING, drift=drift, generation=F("generation") + 1)
                reverted.append(c.connector_name)
            else:
                Connector.objects.filter(pk=c.pk, generation=c.generation).update(
                    status=ResourceStatus.DRIFTED, drift=drift)
                drifted.append(c.connector_name)
    return {"checked": checked, "drifted": drifted, "reverted": reverted, "failed": failed}


def _fail_for_restart(c: Connector) -> None:
    """A connector the worker reports FAILED after it was applied: failed with backoff, so that a run after the
    backoff restarts its failed tasks (a task that keeps failing backs off longer each time)."""
    failures = c.failures + 1
    Connector.objects.filter(pk=c.pk, generation=c.generation, claim_token="").update(
        status=ResourceStatus.FAILED, failures=failures, last_error=f"The worker reports the connector failed: "
        f"{_first_line(c.runtime_error)}", next_attempt_at=timezone.now() + timedelta(
            seconds=claims.backoff_seconds(failures)))
