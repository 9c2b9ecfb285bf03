"""Desired state + observed state -> the actions that make the cluster match. Pure: no I/O.

The runner batches the actions of many topics into one admin request per kind, so the plan
exposes them grouped by kind as well as per topic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from onboarding.platform.types import DesiredTopic, ObservedTopic

__all__ = ["DesiredTopic", "ObservedTopic", "Plan", "TopicPlan", "drift", "plan", "plan_topic", "unrevertable"]


@dataclass
class TopicPlan:
    name: str
    create: DesiredTopic | None = None
    delete: bool = False
    set_configs: dict[str, str] = field(default_factory=dict)
    delete_configs: list[str] = field(default_factory=list)
    partitions_to: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def is_noop(self) -> bool:
        return not (self.create or self.delete or self.set_configs or self.delete_configs or self.partitions_to)

    def actions(self) -> list[str]:
        """The operations as people read them, for the attempt history and change plans."""
        steps = []
        if self.create:
            configs = ", ".join(f"{k}={v}" for k, v in sorted(self.create.configs.items()))
            steps.append(f"create topic with {self.create.partitions} partitions, replication factor "
                         f"{self.create.replication_factor}" + (f", {configs}" if configs else ""))
        steps += [f"set {key}={value}" for key, value in sorted(self.set_configs.items())]
        steps += [f"remove {key} (back to the cluster default)" for key in sorted(self.delete_configs)]
        if self.partitions_to:
            steps.append(f"increase partitions to {self.partitions_to}")
        if self.delete:
            steps.append("delete topic")
        return steps


@dataclass
class Plan:
    topics: dict[str, TopicPlan]

    @property
    def creates(self) -> list[DesiredTopic]:
        return [p.create for p in self.topics.values() if p.create]

    @property
    def config_changes(self) -> dict[str, tuple[dict[str, str], list[str]]]:
        return {n: (p.set_configs, p.delete_configs) for n, p in self.topics.items()
                if p.set_configs or p.delete_configs}

    @property
    def partition_increases(self) -> dict[str, int]:
        return {n: p.partitions_to for n, p in self.topics.items() if p.partitions_to}

    @property
    def deletes(self) -> list[str]:
        return [n for n, p in self.topics.items() if p.delete]


def plan_topic(desired: DesiredTopic, observed: ObservedTopic | None) -> TopicPlan:
    result = TopicPlan(desired.name)
    if not desired.present:
        result.delete = observed is not None
        return result
    if observed is None:
        result.create = desired
        return result
    for key, value in desired.configs.items():
        if observed.configs.get(key) != value:
            result.set_configs[key] = value
    result.delete_configs = sorted(set(observed.configs) - set(desired.configs))
    if desired.partitions > observed.partitions:
        result.partitions_to = desired.partitions
    elif desired.partitions < observed.partitions:
        result.problems.append(f"The topic has {observed.partitions} partitions on the cluster and partitions "
                               f"cannot shrink; the desired {desired.partitions} cannot be applied. Adopt the "
                               "observed count or recreate the topic.")
    if desired.replication_factor != observed.replication_factor:
        result.problems.append(f"The replication factor is {observed.replication_factor} on the cluster; it cannot "
                               f"change in place to {desired.replication_factor}.")
    return result


def plan(desired: Iterable[DesiredTopic], observed: Mapping[str, ObservedTopic]) -> Plan:
    return Plan({d.name: plan_topic(d, observed.get(d.name)) for d in desired})


def drift(desired: DesiredTopic, observed: ObservedTopic | None) -> dict | None:
    """Desired vs observed, field by field, or None when the cluster matches."""
    if observed is None:
        return {"exists": {"desired": True, "observed": False}}
    differences: dict = {}
    if desired.partitions != observed.partitions:
        differences["partitions"] = {"desired": desired.partitions, "observed": observed.partitions}
    if desired.replication_factor != observed.replication_factor:
        differences["replication_factor"] = {"desired": desired.replication_factor,
                                             "observed": observed.replication_factor}
    configs = {}
    for key in sorted(set(desired.configs) | set(observed.configs)):
        want, have = desired.configs.get(key), observed.configs.get(key)
        if want != have:
            configs[key] = {"desired": want, "observed": have}
    if configs:
        differences["configs"] = configs
    return differences or None


def unrevertable(difference: dict | None) -> list[str]:
    """Why a drift cannot be reverted, in the words a person reads (empty: it can be). Kafka can add
    partitions but never remove them, and the portal does not move replicas, so those can only be adopted."""
    if not difference:
        return []
    reasons = []
    if (partitions := difference.get("partitions")) and partitions["observed"] > partitions["desired"]:
        reasons.append(f"The topic has {partitions['observed']} partitions on the cluster and Kafka cannot shrink "
                       f"partitions, so the desired {partitions['desired']} cannot be restored: adopt the observed "
                       "count (or delete and recreate the topic).")
    if replication := difference.get("replication_factor"):
        reasons.append(f"The replication factor is {replication['observed']} on the cluster and the portal cannot "
                       f"change it in place to {replication['desired']}: adopt the observed value.")
    return reasons
