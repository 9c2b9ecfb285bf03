"""The worker and the router agree on the rules topic an operator configures (ROUTER_RULES_TOPIC, README)."""


def test_the_worker_publishes_routing_rules_where_the_configured_router_reads_them(stack):
    # The router reads ROUTER_RULES_TOPIC from the environment (onboarding/routing/router.py); the access
    # reconciler must publish there too, or every routed subscription of such an install stays silent.
    assert stack.worker_rules_topic == stack.rules_topic, (
        f"with ROUTER_RULES_TOPIC={stack.rules_topic} the worker publishes rules to {stack.worker_rules_topic!r} "
        "(onboarding/reconcile/access.py rules_topic() reads only settings.ROUTER_RULES_TOPIC)")
