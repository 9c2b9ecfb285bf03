"""The gateway's grants from the portal's state, and the rows to write to its table. Pure: no I/O.

A team token may publish to its team's ``<team>.`` topics (write scope only), read them, and read the exact
topics its team holds an approved direct subscription for on the cluster; every consumer group it names is
forced under ``<team>.``. The caller passes only tokens that work (a team's, neither revoked nor expired)
and only approved, active direct subscriptions whose source is on the table's cluster: tokens are not per
cluster, so each cluster's table gives the same token that cluster's topics.

Every topic of the cluster with sensitive fields (its own tags or inherited ones, as peek masks them) gets a row
``topic:<name>`` with its paths and their classification, which the gateway masks on consume; a topic whose
last tag is removed loses its row (a tombstone). Who may read a topic's sensitive fields in clear follows peek,
which masks them for every viewer (the topic's team, operators and subscribers alike): no grant gets
``clear_topics`` from the portal today, so every token reads masked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from onboarding.gateway.grants import TOKEN_PREFIX, Grant, TopicMasks

WRITE_SCOPE = "write"


@dataclass(frozen=True)
class TokenInput:
    key_id: str
    key_hash: str  # the SHA-256 hex of the token's secret, as the portal stores it
    team_slug: str
    scope: str  # "read" or "write"
    expires_at: datetime | None = None


@dataclass(frozen=True)
class AccountInput:
    """A service account whose credential is set on the table's cluster."""

    username: str
    secret_sha256: str  # of the password the reconciler set
    team_slug: str
    consume_own: bool  # its "can consume the team's own topics"


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


def grant_for_account(account: AccountInput, direct_topics: Iterable[str] = ()) -> Grant:
    """What the account's own ACLs allow (access_plan.team_acls and direct_acls), as a grant: publish to the team's
    topics, read them when it may, read the team's direct subscriptions, groups under the team's prefix."""
    prefix = f"{account.team_slug}."
    return Grant(
        key_id=account.username, secret_sha256=account.secret_sha256, team=account.team_slug,
        principal=account.username, scope=WRITE_SCOPE, produce_prefixes=(prefix,),
        consume_prefixes=(prefix,) if account.consume_own else (),
        consume_topics=tuple(sorted(set(direct_topics))), group_prefix=prefix, kind="account")


def topic_masks(masked: Mapping[str, Mapping[str, Mapping[str, str]]]) -> dict[str, TopicMasks]:
    """``masked``: topic name -> side -> {path: classification} (``masked_paths`` of each topic). A row per
    topic with at least one path, keyed ``topic:<name>``."""
    rows = {}
    for topic, sides in masked.items():
        masks = TopicMasks(topic=topic, key=dict(sides.get("key") or {}), value=dict(sides.get("value") or {}))
        if masks:
            rows[masks.row_key] = masks
    return rows


def desired(tokens: Iterable[TokenInput], direct: Iterable[DirectSubscriptionInput],
            masked: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None,
            accounts: Iterable[AccountInput] = ()) -> dict[str, Grant | TopicMasks]:
    """One grant per token and per account, keyed as the table keys them (``token:<key id>``,
    ``account:<username>``), and the masks of every topic in ``masked`` that has sensitive fields
    (``topic:<name>``)."""
    topics: dict[str, set[str]] = {}
    for sub in direct:
        topics.setdefault(sub.subscriber_slug, set()).add(sub.source_topic)
    grants = [*(grant_for(token, topics.get(token.team_slug, ())) for token in tokens),
              *(grant_for_account(account, topics.get(account.team_slug, ())) for account in accounts)]
    return {**{grant.key: grant for grant in grants}, **topic_masks(masked or {})}


def diff(wanted: Mapping[str, Grant | TopicMasks],
         observed: Mapping[str, bytes]) -> tuple[dict[str, bytes], list[str]]:
    """(rows to write, keys to tombstone): only rows whose bytes differ are written, so an unchanged table
    gets nothing; a row no longer wanted gets a tombstone."""
    upserts = {}
    for key, row in wanted.items():
        encoded = row.encode()
        if observed.get(key) != encoded:
            upserts[key] = encoded
    tombstones = sorted(key for key in observed if key not in wanted)
    return upserts, tombstones
