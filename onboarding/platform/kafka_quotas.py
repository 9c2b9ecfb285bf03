"""Kafka client quotas of users (DescribeClientQuotas, AlterClientQuotas), behind PlatformError.

confluent-kafka has no client-quota admin calls, so this one adapter speaks the two protocol messages through
kafka-python's client (its KafkaAdminClient ships the messages but does not wrap them). Both go to any broker,
which forwards the alteration to the KRaft controller. Only entities of the form ``user=<name>`` are read and
written: a (user, client-id) pair or the default user is never the portal's.
"""

from __future__ import annotations

from collections.abc import Mapping

import kafka.errors
from kafka.protocol.admin.client_quotas import AlterClientQuotasRequest, DescribeClientQuotasRequest

from onboarding.platform.errors import PlatformError
from onboarding.platform.kafka_python_admin import KafkaPythonAdmin, error_of, failure
from portal.observability.tracing import traced_methods

# The quota keys the portal manages; any other key on a user is left alone.
QUOTA_KEYS = ("producer_byte_rate", "consumer_byte_rate", "request_percentage")
_MATCH_SPECIFIED = 2  # DescribeClientQuotas: any named entity of the type (0 exact name, 1 the default)


@traced_methods("kafka.admin")
class KafkaQuotas(KafkaPythonAdmin):
    client_id = "portal-quotas"
    purpose = "client quotas"

    def _send(self, request, action: str):
        async def send():
            return await self._admin._manager.send(request, request_timeout_ms=int(self.timeout * 1000))
        try:
            return self._admin._manager.run(send)
        except kafka.errors.KafkaError as exc:
            raise failure(exc, action) from None

    def describe_user_quotas(self) -> dict[str, dict[str, float]]:
        """Every named user's quotas on the cluster (the portal's keys only), in one request."""
        component = DescribeClientQuotasRequest.ComponentData(entity_type="user", match_type=_MATCH_SPECIFIED,
                                                              match=None)
        response = self._send(DescribeClientQuotasRequest(components=[component], strict=True),
                              "describe client quotas")
        if error := error_of(response.error_code, response.error_message, "describe client quotas"):
            raise error
        found: dict[str, dict[str, float]] = {}
        for entry in response.entries or ():
            names = [e.entity_name for e in entry.entity if e.entity_type == "user"]
            values = {v.key: v.value for v in entry.values if v.key in QUOTA_KEYS}
            if len(entry.entity) == 1 and names and names[0] is not None and values:
                found[names[0]] = values
        return found

    def alter_user_quotas(self, changes: Mapping[str, Mapping[str, float | None]]) -> dict[str, PlatformError | None]:
        """Set (a number) or remove (None) quota keys of users, all in one request; the outcome per user."""
        Entry = AlterClientQuotasRequest.EntryData
        entries = [Entry(entity=[Entry.EntityData(entity_type="user", entity_name=user)],
                         ops=[Entry.OpData(key=key, value=float(value or 0), remove=value is None)
                              for key, value in sorted(ops.items())])
                   for user, ops in sorted(changes.items()) if ops]
        if not entries:
            return {}
        response = self._send(AlterClientQuotasRequest(entries=entries, validate_only=False), "alter client quotas")
        outcomes: dict[str, PlatformError | None] = {}
        for entry in response.entries:
            user = next((e.entity_name for e in entry.entity if e.entity_type == "user"), None)
            outcomes[user] = error_of(entry.error_code, entry.error_message, "alter client quotas")
        return outcomes
