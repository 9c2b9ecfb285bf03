"""SCRAM credentials and ACLs through the Kafka admin API, behind PlatformError.

Reuses KafkaAdmin's client and timeout. Each method sends one request whatever the number of
users or bindings (describe: one filter for all ACLs, or one principal).
"""

from __future__ import annotations

from collections.abc import Iterable

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)

from onboarding.platform.compacted import write_compacted
from onboarding.platform.errors import PlatformError
from onboarding.platform.kafka_admin import KafkaAdmin, translate
from onboarding.platform.types import AclSpec
from portal.observability.tracing import traced_methods

__all__ = ["AclSpec", "KafkaAcls", "from_binding", "to_binding"]


def to_binding(spec: AclSpec) -> AclBinding:
    return AclBinding(ResourceType[spec.resource_type], spec.name, ResourcePatternType[spec.pattern],
                      spec.principal, spec.host, AclOperation[spec.operation], AclPermissionType[spec.permission])


def from_binding(binding: AclBinding) -> AclSpec:
    return AclSpec(binding.restype.name, binding.name, binding.resource_pattern_type.name, binding.principal,
                   binding.operation.name, binding.permission_type.name, binding.host)


def _exact_filter(spec: AclSpec) -> AclBindingFilter:
    return AclBindingFilter(ResourceType[spec.resource_type], spec.name, ResourcePatternType[spec.pattern],
                            spec.principal, spec.host, AclOperation[spec.operation],
                            AclPermissionType[spec.permission])


@traced_methods("kafka.admin")
class KafkaAcls(KafkaAdmin):
    """KafkaAdmin plus SCRAM users and ACLs (one AdminClient per reconcile run)."""

    # ------------------------------------------------------------------ SCRAM
    def upsert_scram(self, username: str, password: str, mechanism: str = "SCRAM-SHA-512",
                     iterations: int = 8192) -> None:
        error = self.alter_scram(upserts={username: password}, mechanism=mechanism, iterations=iterations)[username]
        if error:
            raise error

    def delete_scram(self, username: str, mechanism: str = "SCRAM-SHA-512") -> None:
        error = self.alter_scram(deletes=[username], mechanism=mechanism)[username]
        if error:
            raise error

    def alter_scram(self, *, upserts: dict[str, str] | None = None, deletes: Iterable[str] = (),
                    mechanism: str = "SCRAM-SHA-512", iterations: int = 8192) -> dict[str, PlatformError | None]:
        """Set and delete credentials in one request; a credential already gone counts as deleted."""
        kind = ScramMechanism[mechanism.replace("-", "_")]
        info = ScramCredentialInfo(kind, iterations)
        alterations = [UserScramCredentialUpsertion(user, info, password.encode("utf-8"))
                       for user, password in (upserts or {}).items()]
        alterations += [UserScramCredentialDeletion(user, kind) for user in deletes]
        if not alterations:
            return {}
        futures = self.client.alter_user_scram_credentials(alterations, request_timeout=self.timeout)
        outcomes = {}
        for user, future in futures.items():
            try:
                future.result(self.timeout + 5)
                outcomes[user] = None
            except KafkaException as exc:
                error = translate(exc, "set SCRAM credential")
                outcomes[user] = None if error.code == "RESOURCE_NOT_FOUND" else error
        return outcomes

    def scram_users(self, usernames: Iterable[str]) -> set[str]:
        """Which of ``usernames`` have a SCRAM credential on the cluster (one request)."""
        usernames = sorted(set(usernames))
        if not usernames:
            return set()
        futures = self.client.describe_user_scram_credentials(usernames, request_timeout=self.timeout)
        found = set()
        for user, future in futures.items():
            try:
                if future.result(self.timeout + 5).scram_credential_infos:
                    found.add(user)
            except KafkaException as exc:
                error = translate(exc, "describe SCRAM credentials")
                if error.code != "RESOURCE_NOT_FOUND":
                    raise error from None
        return found

    # ------------------------------------------------------------------ ACLs
    def describe_acls(self, principal: str | None = None) -> set[AclSpec]:
        """Every ACL of ``principal`` (of everyone when None), in one request."""
        query = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, principal, None,
                                 AclOperation.ANY, AclPermissionType.ANY)
        try:
            bindings = self.client.describe_acls(query, request_timeout=self.timeout).result(self.timeout + 5)
        except KafkaException as exc:
            raise translate(exc, "describe ACLs") from None
        return {from_binding(b) for b in bindings}

    def create_acls(self, specs: Iterable[AclSpec]) -> dict[AclSpec, PlatformError | None]:
        specs = sorted(set(specs))
        if not specs:
            return {}
        bindings = {to_binding(s): s for s in specs}
        futures = self.client.create_acls(list(bindings), request_timeout=self.timeout)
        return self._acl_outcomes({bindings[b]: f for b, f in futures.items()}, "create ACL")

    def delete_acls(self, specs: Iterable[AclSpec]) -> dict[AclSpec, PlatformError | None]:
        specs = sorted(set(specs))
        if not specs:
            return {}
        filters = {_exact_filter(s): s for s in specs}
        futures = self.client.delete_acls(list(filters), request_timeout=self.timeout)
        return self._acl_outcomes({filters[f]: fut for f, fut in futures.items()}, "delete ACL")

    def _acl_outcomes(self, futures: dict, action: str) -> dict[AclSpec, PlatformError | None]:
        outcomes = {}
        for spec, future in futures.items():
            try:
                future.result(self.timeout + 5)
                outcomes[spec] = None
            except KafkaException as exc:
                outcomes[spec] = translate(exc, action)
        return outcomes

    # ------------------------------------------------------------------ data-plane tables
    def write_compacted(self, topic: str, records: dict[str, bytes | None]) -> dict[str, PlatformError | None]:
        """Rows of a compacted table topic, with the admin connection (the reconciler owns the tables)."""
        return write_compacted(self.connection, topic, records, timeout=self.timeout + 10)
