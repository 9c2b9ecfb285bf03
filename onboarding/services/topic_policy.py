"""A cluster's rules for new topics: its policy, and the replication factors its brokers can really hold."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from onboarding import policies
from onboarding.models import Cluster, TopicPolicy
from onboarding.platform.cluster_size import broker_count


def policy_for(cluster: Cluster) -> TopicPolicy:
    """The cluster's topic policy; a cluster without one gets the platform defaults."""
    policy, _ = TopicPolicy.objects.get_or_create(
        cluster=cluster,
        defaults={"allowed_replication_factors": [1, 3], "config_rules": copy.deepcopy(policies.DEFAULT_CONFIG_RULES)},
    )
    return policy


@dataclass(frozen=True)
class ReplicationChoices:
    """The replication factors a new topic may have on a cluster: its policy's, capped by its brokers."""

    allowed: list[int]  # empty: any factor up to the broker count
    default: int
    brokers: int | None  # None: the cluster did not answer, so only the policy applies


def replication_choices(cluster: Cluster, policy: TopicPolicy | None = None) -> ReplicationChoices:
    """What the policy allows that the cluster can also do. A factor above the broker count can never be
    created, so it is not offered, and the default falls to the largest factor that fits."""
    policy = policy or policy_for(cluster)
    allowed = sorted(policy.allowed_replication_factors or [])
    brokers = broker_count(cluster)
    default = policy.default_replication_factor
    if brokers is not None:
        fitting = [f for f in allowed if f <= brokers]
        allowed = fitting or allowed  # nothing fits: keep the policy's, and the check below explains why
        if default > brokers:
            default = max(fitting) if fitting else brokers
    return ReplicationChoices(allowed=allowed, default=default, brokers=brokers)


def broker_limit(errors: dict, factor, brokers: int | None) -> None:
    if brokers is not None and isinstance(factor, int) and factor > brokers and "replication_factor" not in errors:
        errors["replication_factor"] = [
            f"This cluster has {brokers} broker{'s' if brokers != 1 else ''}: the replication factor can be at "
            f"most {brokers}."]
