"""The adapters' own value types: what a caller asks Kafka for and what Kafka reports, in Kafka's words.

The reconcilers' pure planners compare these; the adapters build and read them. Defined here, at the
bottom, so the adapters import nothing above them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class DesiredTopic:
    name: str
    partitions: int
    replication_factor: int
    configs: Mapping[str, str]
    present: bool = True  # False while the topic is being deleted


@dataclass(frozen=True)
class ObservedTopic:
    name: str
    partitions: int
    replication_factor: int
    configs: Mapping[str, str]  # only the configs set on the topic itself, not broker defaults

    def as_dict(self) -> dict:
        return {"partitions": self.partitions, "replication_factor": self.replication_factor,
                "configs": dict(self.configs)}


@dataclass(frozen=True, order=True)
class AclSpec:
    """One ACL binding, in Kafka's own words (``TOPIC``, ``PREFIXED``, ``READ``...)."""

    resource_type: str
    name: str
    pattern: str  # LITERAL | PREFIXED
    principal: str
    operation: str
    permission: str = "ALLOW"
    host: str = "*"

    def as_dict(self) -> dict:
        return asdict(self)

    def label(self) -> str:
        return f"{self.permission} {self.operation} on {self.pattern} {self.resource_type} {self.name}"
