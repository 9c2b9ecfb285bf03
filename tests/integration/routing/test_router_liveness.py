"""The router's liveness probe (/healthz on its metrics port) proves the loop advances: it fails while a router
that owns partitions stops polling and committing, and recovers when the loop turns again."""

import time
import urllib.error
import urllib.request

import pytest

from onboarding.routing import metrics
from onboarding.routing.router import Router
from tests.fixtures.waiting import wait_for
from tests.integration.routing.conftest import make_rule, produce_events, upsert

pytestmark = pytest.mark.kafka


def _probe(port: int) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_the_probe_fails_while_the_loop_is_frozen_and_recovers_when_it_turns(settings, topics, producer, unique):
    settings.ROUTER_LIVENESS_SECONDS = 2
    src, dst, dlq = topics["src"], topics["dst"], topics["dlq"]
    upsert(producer, topics["rules"], make_rule(f"sub-{unique}", src, dst, dlq))
    server = metrics.serve(0, address="127.0.0.1")
    router = Router(group_id=f"router-{unique}", rules_topic=topics["rules"])
    router.start()
    try:
        produce_events(producer, src, [{"n": 0}])
        handled, deadline = 0, time.monotonic() + 60
        while not handled and time.monotonic() < deadline:
            handled = router.run_once(timeout=1.0)
        assert handled == 1 and router.consumer.assignment()
        assert _probe(server.server_port) == (200, "ok\n")

        # The loop stops turning (nobody calls run_once) while the router owns its partitions.
        status, body = wait_for(lambda: (answer := _probe(server.server_port))[0] == 503 and answer,
                                timeout=30, interval=0.5, message="the probe to fail")
        assert "no poll or commit" in body and "owning 1 partitions" in body

        router.run_once(timeout=1.0)
        assert _probe(server.server_port) == (200, "ok\n")
    finally:
        router.close()
        server.shutdown()
        server.server_close()
