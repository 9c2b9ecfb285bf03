"""The Grafana dashboard (deploy/grafana/portal-dashboard.json) names only metrics that the running processes
export: every metric its PromQL selects is on the real /metrics page of the web process, the router, the mapper,
the gateway or the aggregation engine."""

from __future__ import annotations

import requests

from tests.acceptance import steps
from tests.acceptance.http import wait_for
from tests.fixtures.dashboard import dashboard_metrics, exported_names


def _exported(url: str) -> set[str]:
    answer = requests.get(url, timeout=30)
    assert answer.status_code == 200, f"{url}: {answer.status_code} {answer.text[:300]}"
    return exported_names(answer.text)


def _engine_runs_a_definition(as_user, run: str) -> None:
    """The engine's page lists its families only with a definition running: run one if none does (a journey run
    on its own; in the whole tier the aggregation journeys have left theirs)."""
    alice = as_user("alice")
    source = steps.topic(alice, name=f"payments.{run}-dashboard-source", team="payments")
    created = alice.created("aggregations/", {
        "team": "payments", "name": f"{run}-dashboard", "source": source["id"], "window_type": "tumbling",
        "size": "1m", "grace": "1m", "start_from": "earliest",
        "measures": [{"name": "events", "op": "count"}], "output_topic": f"payments.{run}-dashboard-minutely"})
    alice.wait_status(f"aggregations/{created['id']}/", timeout=180)


def test_every_metric_the_dashboards_panels_query_is_exported_by_a_running_process(stack, as_user, run):
    assert set(stack.metrics_urls) == {"web", "router", "mapper", "gateway", "aggregator"}
    if not _exported(stack.metrics_urls["aggregator"]):
        _engine_runs_a_definition(as_user, run)
        wait_for(lambda: _exported(stack.metrics_urls["aggregator"]), timeout=60,
                 message="the engine's metric families")
    exported = {process: _exported(url) for process, url in stack.metrics_urls.items()}
    everything = set().union(*exported.values())

    panels = dashboard_metrics()
    missing = {title: sorted(names - everything) for title, names in panels.items() if names - everything}
    assert not missing, f"panels query metrics no process exports: {missing}"
    # Each process's own metrics have a panel: the dashboard covers the data plane, not only the portal.
    queried = set().union(*panels.values())
    for process in ("router", "mapper", "gateway", "aggregator"):
        assert exported[process] & queried, f"no panel queries a metric of the {process}"
