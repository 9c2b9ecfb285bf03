"""The World's connectors: one of payments as the worker would have left it, a spare one to delete, and a drifted
one (deleted behind the portal's back). Rows written as the reconciler leaves them, on a cluster that allows the
MongoDB sink (``matrix_support.World`` inherits them); the create rows go through the service and Connect."""

from __future__ import annotations

from functools import cached_property

from onboarding.models import Connector, ResourceStatus
from tests.fixtures.eventstore import event_store_uri

MONGO_SINK = "com.mongodb.kafka.connect.MongoSinkConnector"


def sink_config(world) -> dict:
    return {"topics": world.private_topic.name, "connection.uri": event_store_uri(), "database": "matrix"}


class ConnectorObjects:
    """Mixed into ``World``: expects ``cluster``, ``payments`` and ``private_topic`` from it."""

    def _connector(self, name: str, **fields) -> Connector:
        if MONGO_SINK not in self.cluster.connect_allowed_classes:
            self.cluster.connect_allowed_classes = [MONGO_SINK]
            self.cluster.save(update_fields=["connect_allowed_classes"])
        defaults = {"status": ResourceStatus.READY, "observed_generation": 1, "connector_state": "RUNNING",
                    "task_states": [{"id": 0, "state": "RUNNING", "worker_id": "w", "trace": ""}]}
        return Connector.objects.create(cluster=self.cluster, team=self.payments, name=name,
                                        connector_class=MONGO_SINK, config=sink_config(self),
                                        **{**defaults, **fields})

    @cached_property
    def connector(self) -> Connector:
        return self._connector("orders-store")

    @cached_property
    def spare_connector(self) -> Connector:
        return self._connector("spare-store")

    @cached_property
    def drifted_connector(self) -> Connector:
        """Changed on the worker by hand: a key the portal does not set (adopt takes it, revert removes it)."""
        observed = {**{k: str(v) for k, v in sink_config(self).items()}, "connector.class": MONGO_SINK,
                    "name": "payments.drifted-store", "max.batch.size": "10"}
        return self._connector("drifted-store", status=ResourceStatus.DRIFTED, drift={
            "differences": {"max.batch.size": {"desired": None, "observed": "10"}}, "observed_config": observed})
