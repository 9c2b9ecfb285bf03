"""The gateway's grants from the portal's state, and the rows to write to its table. Pure: no I/O.

A team token may publish to its team's ``<team>.`` topics (write scope only), read them, and read the exact
topics its team holds an approved direct subscription for on the cluster; every consumer group it names is
forced under ``<team>.``. The caller passes only tokens that work (a team's, neither revoked nor expired)
and only approved, active direct subscriptions whose source is on the table's cluster: tokens are not per
cluster, so each cluster's table gives the same token that cluster's topics.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from onboarding.gateway.grants import TOKEN_PREFIX, Grant

WRITE_SCOPE = "write"


@dataclass(frozen=True)
class TokenInput:
    key_id: str
    key_hash: str  # the SHA-256 hex of the token's secret, as the portal stores it
    team_slug: str
    scope: str  # "read" or "write"
    expires_at: datetime | None = None


@dataclass(frozen=True)
class DirectSubscriptionInput:
    subscriber_slug: str
    source_topic: str


def grant_for(token: TokenInput, direct_topics: Iterable[str] = ()) -> Grant:
    prefix = f"{token.team_slug}."
    return Grant(
        key_id=token.key_id, secret_sha256=token.key_hash, team=token.team_slug,
        principal=f"{TOKEN_PREFIX}_{token.key_id}", scope=token.scope,
        produce_prefixes=(prefix,) if token.scope == WRITE_SCOPE else (),
        consume_prefixes=(prefix,),
        consume_topics=tuple(sorted(set(direct_topics))),  # sorted: equal state, equal bytes
        group_prefix=prefix,
        expires_at=token.expires_at.timestamp() if token.expires_at is not None else None,
    )


def desired(tokens: Iterable[TokenInput], direct: Iterable[DirectSubscriptionInput]) -> dict[str, Grant]:
    """One grant per token, keyed as the table keys it (``token:<key id>``)."""
    topics: dict[str, set[str]] = {}
    for sub in direct:
        topics.setdefault(sub.subscriber_slug, set()).add(sub.source_topic)
    grants = (grant_for(token, topics.get(token.team_slug, ())) for token in tokens)
    return {grant.key: grant for grant in grants}


def diff(wanted: Mapping[str, Grant], observed: Mapping[str, bytes]) -> tuple[dict[str, bytes], list[str]]:
    """(rows to write, keys to tombstone): only rows whose bytes differ are written, so an unchanged table
    gets nothing; a row no longer wanted gets a tombstone."""
    upserts = {}
    for key, grant in wanted.items():
        encoded = grant.encode()
        if observed.get(key) != encoded:
            upserts[key] = encoded
    tombstones = sorted(key for key in observed if key not in wanted)
    return upserts, tombstones
