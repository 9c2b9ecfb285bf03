"""The worker and the router agree on the rules topic an operator configures (ROUTER_RULES_TOPIC, README)."""


def test_the_worker_publishes_routing_rules_where_the_configured_router_reads_them(stack):
    # Both read settings.ROUTER_RULES_TOPIC; if the access reconciler published elsewhere, every routed
    # subscription of an install that sets the variable would stay silent.
    assert stack.worker_rules_topic == stack.rules_topic
