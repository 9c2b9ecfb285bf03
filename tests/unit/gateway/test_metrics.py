"""The gateway's metric names and labels: what dashboards and alerts are written against."""

import pytest
from prometheus_client import REGISTRY

from onboarding.gateway import metrics

pytestmark = pytest.mark.unit

EXPECTED = {
    "portal_gateway_requests": ("protocol", "route", "method", "status"),
    "portal_gateway_request_duration_seconds": ("protocol", "route", "method"),
    "portal_gateway_received_bytes": ("protocol",),
    "portal_gateway_sent_bytes": ("protocol",),
    "portal_gateway_records_produced": ("topic", "outcome"),
    "portal_gateway_records_consumed": ("topic", "outcome"),
    "portal_gateway_grant_decisions": ("protocol", "action", "outcome", "reason"),
    "portal_gateway_rate_limited": ("protocol", "limit"),
    "portal_gateway_audit_records_dropped": (),
}


def test_names_and_labels():
    found = {metric._name: metric._labelnames for metric in vars(metrics).values()
             if hasattr(metric, "_labelnames") and getattr(metric, "_name", "").startswith("portal_gateway_")}
    assert found == EXPECTED


def test_no_label_names_a_token_a_team_or_a_request():
    for labels in EXPECTED.values():
        assert not {"token", "key_id", "principal", "team", "request_id", "path"} & set(labels)


def test_a_decision_is_allowed_only_when_ok():
    before = REGISTRY.get_sample_value("portal_gateway_grant_decisions_total", {
        "protocol": "rest", "action": "produce", "outcome": "denied", "reason": "not_granted"}) or 0
    metrics.decision(metrics.REST, "produce", "not_granted")
    metrics.decision(metrics.REST, "produce", "ok")
    assert REGISTRY.get_sample_value("portal_gateway_grant_decisions_total", {
        "protocol": "rest", "action": "produce", "outcome": "denied", "reason": "not_granted"}) == before + 1


@pytest.mark.parametrize(("code", "outcome"), [(200, "delivered"), (42901, "queue_full"), (42902, "rate_limited"),
                                               (50301, "unavailable"), (40002, "refused"), (42201, "refused")])
def test_report_outcomes(code, outcome):
    assert metrics.outcome_of(code) == outcome


def test_the_route_label_is_the_template_never_the_path():
    class Route:
        path = "/v3/clusters/{cluster_id}/topics/{topic}/records"

    assert metrics.route_of({"route": Route(), "path": "/v3/clusters/x/topics/secret/records"}) == Route.path
    assert metrics.route_of({"path": "/anything"}) == "unmatched"
