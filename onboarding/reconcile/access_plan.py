"""Desired Kafka ACLs of the portal's service accounts, and the diff with what the cluster has. Pure: no I/O.

A team's service accounts produce to and (unless the account opts out) consume the team's own topics
(prefix ``<team>.``), use transactional ids and consumer groups under the same prefix, and read the topics
of other teams only through an approved direct subscription. A routed subscription's destination is one
of the subscriber's own topics, so the own-topic READ is what lets its account read the copies; the router
itself copies events with the admin connection.

Drift a team adopted is kept per account as exceptions to that standard set: ACLs found on the cluster
that are now desired ("accepted") and standard ACLs the account no longer gets ("waived").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from onboarding.platform.types import AclSpec


@dataclass(frozen=True)
class AccountInput:
    principal: str
    team_slug: str
    consume_own: bool = True
    accepted: frozenset[AclSpec] = frozenset()
    waived: frozenset[AclSpec] = frozenset()


def specs_of(records: Iterable[Mapping]) -> frozenset[AclSpec]:
    """AclSpecs from their JSON form (drift records, adopted exceptions)."""
    return frozenset(AclSpec(**record) for record in records or ())


@dataclass(frozen=True)
class DirectAccessInput:
    principal: str
    subscriber_slug: str
    source_topic: str


def team_acls(principal: str, team_slug: str, *, consume_own: bool = True) -> set[AclSpec]:
    """What every service account of a team may do with the team's own resources."""
    prefix = f"{team_slug}."
    acls = {
        AclSpec("TOPIC", prefix, "PREFIXED", principal, "WRITE"),
        AclSpec("TOPIC", prefix, "PREFIXED", principal, "DESCRIBE"),
        AclSpec("TRANSACTIONAL_ID", prefix, "PREFIXED", principal, "WRITE"),
        AclSpec("TRANSACTIONAL_ID", prefix, "PREFIXED", principal, "DESCRIBE"),
        AclSpec("GROUP", prefix, "PREFIXED", principal, "READ"),
    }
    if consume_own:
        acls.add(AclSpec("TOPIC", prefix, "PREFIXED", principal, "READ"))
    return acls


def direct_acls(access: DirectAccessInput) -> set[AclSpec]:
    """Read access to one source topic, with the subscriber's consumer-group prefix."""
    return {
        AclSpec("TOPIC", access.source_topic, "LITERAL", access.principal, "READ"),
        AclSpec("TOPIC", access.source_topic, "LITERAL", access.principal, "DESCRIBE"),
        AclSpec("GROUP", f"{access.subscriber_slug}.", "PREFIXED", access.principal, "READ"),
    }


def desired(accounts: Iterable[AccountInput], direct: Iterable[DirectAccessInput]) -> dict[str, set[AclSpec]]:
    """Per principal, every ACL it must have. Direct accesses of principals that are not live accounts
    grant nothing: a deleted account keeps no rights."""
    result: dict[str, set[AclSpec]] = {}
    exceptions: dict[str, AccountInput] = {}
    for account in accounts:
        result.setdefault(account.principal, set()).update(
            team_acls(account.principal, account.team_slug, consume_own=account.consume_own))
        exceptions[account.principal] = account
    for access in direct:
        if access.principal in result:
            result[access.principal].update(direct_acls(access))
    for principal, account in exceptions.items():
        # Only the account's own principal: an exception can never grant or take rights of someone else.
        result[principal] = (result[principal] - account.waived) | {
            s for s in account.accepted if s.principal == principal}
    return result


def adopted(standard: set[AclSpec], observed: set[AclSpec]) -> dict:
    """The exceptions that make the cluster's ACLs of a principal (``observed``) its desired set, given the
    standard set it would otherwise get: extra ACLs become accepted, missing ones waived."""
    result = {}
    if accepted := observed - standard:
        result["accepted"] = [s.as_dict() for s in sorted(accepted)]
    if waived := standard - observed:
        result["waived"] = [s.as_dict() for s in sorted(waived)]
    return result


def diff(desired_acls: Mapping[str, set[AclSpec]], observed: Iterable[AclSpec],
         principals: Iterable[str]) -> tuple[set[AclSpec], set[AclSpec]]:
    """(missing, extra) for the given principals only: ACLs of anyone else are not the portal's."""
    wanted_principals = set(principals)
    have = {spec for spec in observed if spec.principal in wanted_principals}
    want = set().union(*(desired_acls.get(p, set()) for p in wanted_principals)) if wanted_principals else set()
    return want - have, have - want


def drift_of(missing: Iterable[AclSpec], extra: Iterable[AclSpec]) -> dict | None:
    """The drift record of a resource (JSON), None when nothing differs."""
    missing, extra = sorted(missing), sorted(extra)
    if not missing and not extra:
        return None
    return {"missing": [s.as_dict() for s in missing], "extra": [s.as_dict() for s in extra]}


def describe(difference: dict) -> str:
    parts = []
    for key, word in (("missing", "missing"), ("extra", "added outside the portal")):
        for spec in difference.get(key, []):
            parts.append(f"{AclSpec(**spec).label()} for {spec['principal']} {word}")
    return "ACLs changed outside the portal: " + "; ".join(parts) + "."
