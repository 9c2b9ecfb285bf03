"""The gateway's denials in the portal's audit trail: the worker copies the audit topic into AuditEvent rows.

Run by Celery beat (task ``onboarding.ingest_gateway_audit``, every GATEWAY_AUDIT_INGEST_SECONDS). Records are
read from the consumer group's committed offsets (GATEWAY_AUDIT_GROUP), stored, and only then committed, so a
crash reads them again. Storing is idempotent by request id and the gateway's time of the denial: a record
stored once is skipped. One ingest stores at a time (a Postgres advisory lock), so two runs cannot both find a
record missing and both insert it.

Each denial becomes an AuditEvent with action ``gateway.denied``, via ``system``, the token's principal as the
actor name (``anonymous`` without a token), resource type ``gateway_token`` and id the token's key id, the
topic (or route) as the resource name, the token's team, the caller's request id, and the whole record in
``after`` (its ``at`` is when the gateway refused; the row's own ``at`` is when it was copied).
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import connection, transaction

from onboarding.gateway.audit import AuditTopicReader, Denial
from onboarding.models import AuditEvent, Team
from onboarding.platform.connection import KafkaConnection, default_kafka_connection

log = logging.getLogger(__name__)
ACTION = "gateway.denied"
RESOURCE_TYPE = "gateway_token"
LOCK = zlib.crc32(b"onboarding.gateway-audit-ingest") & 0x7FFFFFFF
BATCH = 500
MAX_BATCHES = 20  # per run: a backlog is worked off over several runs, none of which runs for long


@dataclass
class IngestReport:
    read: int = 0
    stored: int = 0
    caught_up: bool = False


def ingest(*, kafka: KafkaConnection | None = None, topic: str | None = None, group: str | None = None) -> IngestReport:
    report = IngestReport()
    topic = topic or settings.GATEWAY_AUDIT_TOPIC
    if not topic:
        report.caught_up = True
        return report
    reader = AuditTopicReader(kafka or default_kafka_connection(), topic=topic,
                              group=group or settings.GATEWAY_AUDIT_GROUP)
    try:
        for _ in range(MAX_BATCHES):
            denials = reader.read(max_records=BATCH)
            report.read += len(denials)
            report.stored += store(denials)
            reader.commit()  # after the rows are committed: a crash in between reads them again
            if reader.caught_up:
                report.caught_up = True
                break
    finally:
        reader.close()
    if report.stored:
        log.info("gateway audit: %d denials stored (%d read)", report.stored, report.read)
    return report


def store(denials: list[Denial]) -> int:
    """Insert the denials not stored yet; returns how many were inserted."""
    if not denials:
        return 0
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK])
        seen = set(AuditEvent.objects.filter(action=ACTION, request_id__in={d.request_id for d in denials})
                   .values_list("request_id", "after__at"))
        teams = dict(Team.objects.filter(slug__in={d.team for d in denials if d.team}).values_list("slug", "pk"))
        rows = []
        for denial in denials:
            if (denial.request_id, denial.at) in seen:
                continue
            seen.add((denial.request_id, denial.at))
            rows.append(_row(denial, teams.get(denial.team)))
        AuditEvent.objects.bulk_create(rows)
    return len(rows)


def _row(denial: Denial, team_id: int | None) -> AuditEvent:
    principal = denial.principal or (f"pep_{denial.key_id}" if denial.key_id else "anonymous")
    return AuditEvent(
        actor=None, actor_name=principal[:150], via=AuditEvent.Via.SYSTEM, action=ACTION,
        resource_type=RESOURCE_TYPE, resource_id=(denial.key_id or "-")[:40],
        resource_name=(denial.topic or denial.route or "-")[:255], team_id=team_id, after=asdict(denial),
        note=f"{denial.protocol} {denial.action} refused ({denial.status}): {denial.reason}",
        request_id=denial.request_id[:128])
