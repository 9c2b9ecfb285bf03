"""The mapper's metrics port: /healthz proves the loop advances (it fails while a mapper that owns partitions
stops polling and committing, and recovers when the loop turns again), /metrics counts per mapping."""

import time
import urllib.error
import urllib.request

import pytest

from onboarding.mapper import metrics as mapper_metrics
from onboarding.mapper.mapper import Mapper
from onboarding.routing import metrics
from tests.fixtures.waiting import wait_for
from tests.integration.mapper.conftest import lab_b_event

pytestmark = [pytest.mark.kafka, pytest.mark.registry]


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_the_probe_fails_while_the_loop_is_frozen_and_the_metrics_count_per_mapping(settings, feeds, unique):
    settings.MAPPER_LIVENESS_SECONDS = 2
    row = feeds.row("b")
    feeds.publish(row)
    feeds.produce_b(range(3), event=lambda n: {"n": n} if n == 2 else lab_b_event(n))  # the third fails
    server = metrics.serve(0, address="127.0.0.1", liveness=mapper_metrics.LIVENESS, what="mapper")
    mapper = Mapper(group_id=f"mapper-{unique}", table_topic=feeds.table)
    mapper.start()
    try:
        handled, deadline = 0, time.monotonic() + 60
        while handled < 3 and time.monotonic() < deadline:
            handled += mapper.run_once(timeout=1.0)
        assert handled == 3 and mapper.consumer.assignment()
        assert _get(server.server_port, "/healthz") == (200, "ok\n")
        status, text = _get(server.server_port, "/metrics")
        assert f'portal_mapper_events_total{{mapping="{row["id"]}",outcome="mapped",version="1"}} 2.0' in text
        assert f'portal_mapper_events_total{{mapping="{row["id"]}",outcome="failed",version="1"}} 1.0' in text

        # The loop stops turning (nobody calls run_once) while the mapper owns its partitions.
        status, body = wait_for(lambda: (answer := _get(server.server_port, "/healthz"))[0] == 503 and answer,
                                timeout=30, interval=0.5, message="the probe to fail")
        assert "no poll or commit" in body

        mapper.run_once(timeout=1.0)
        assert _get(server.server_port, "/healthz") == (200, "ok\n")
    finally:
        mapper.close()
        server.shutdown()
        server.server_close()
