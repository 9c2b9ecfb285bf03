"""The Grafana dashboard's queries name metrics the way tests/acceptance/test_dashboard.py checks them: the PromQL
name extraction, and a /metrics page's names with their type suffixes."""

import pytest

from tests.fixtures.dashboard import dashboard_metrics, exported_names, metric_names


@pytest.mark.parametrize(("expr", "names"), [
    ('sum by (kind, outcome) (rate(portal_reconcile_attempts_total[$__rate_interval]))',
     {"portal_reconcile_attempts_total"}),
    ('histogram_quantile(0.95, sum by (le) (rate(portal_router_batch_duration_seconds_bucket{job=~"router"}[5m])))',
     {"portal_router_batch_duration_seconds_bucket"}),
    ('sum(rate(a_total{outcome="rate(x)"}[1h:5m])) / on (job) group_left (team) b_info or vector(0)',
     {"a_total", "b_info"}),
    ("max without (instance) (portal_celery_queue_length) > bool 10", {"portal_celery_queue_length"}),
    ("portal_redis_up offset 5m unless $other", {"portal_redis_up"}),
])
def test_the_metric_names_of_a_query_are_its_selectors_only(expr, names):
    assert metric_names(expr) == names


def test_every_panel_of_the_dashboard_queries_at_least_one_metric():
    panels = dashboard_metrics()
    assert len(panels) >= 15
    assert {title for title, names in panels.items() if not names} == set()


def test_a_metrics_page_exports_its_samples_and_the_suffixes_of_families_without_samples():
    page = ("# HELP jobs_done Jobs.\n# TYPE jobs_done counter\n"
            "# HELP wait_seconds Wait.\n# TYPE wait_seconds histogram\n"
            "# HELP depth Depth.\n# TYPE depth gauge\ndepth{queue=\"a\"} 3\n")
    names = exported_names(page)
    assert {"jobs_done_total", "wait_seconds_bucket", "wait_seconds_count", "depth"} <= names
    assert "depth_total" not in names and "jobs_done_bucket" not in names
