"""What the gateway's REST and gRPC handlers share: the grants, the producers, the schema cache, the limits."""

from __future__ import annotations

from dataclasses import dataclass, field

from onboarding.gateway import idempotency
from onboarding.gateway.audit import Auditor
from onboarding.gateway.grants import GrantsTable
from onboarding.gateway.ratelimit import RateLimiter
from onboarding.gateway.server import DeliveryProducer
from onboarding.gateway.transactions import TransactionalProducers


@dataclass
class Gateway:
    """What the routes share: the grants (followed by table.GrantsReader), the producer, the schema cache."""

    grants: GrantsTable
    producer: DeliveryProducer
    schemas: object  # writer_schemas.RegistrySchemas (or anything encode_record accepts)
    validate: bool = True
    transactions: TransactionalProducers | None = None  # atomic batches; by default made from the producer's config
    idempotency: idempotency.IdempotencyStore | None = None  # Idempotency-Key answers; by default from settings
    limiter: RateLimiter = field(default_factory=RateLimiter.from_settings)  # per token, in this replica
    auditor: Auditor | None = None  # denials: by default through ``producer`` to GATEWAY_AUDIT_TOPIC

    def __post_init__(self):
        if self.auditor is None:
            self.auditor = Auditor(self.producer)

