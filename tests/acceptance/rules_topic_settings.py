"""The portal's settings plus ROUTER_RULES_TOPIC from the environment, for the acceptance worker only.

Used only while the worker ignores the ROUTER_RULES_TOPIC variable the router honours (the harness probes
for it; test_routing_config.py fails meanwhile): without it this run's worker would publish its routing
rules into the shared default rules topic, which other portals on the same broker read.
"""

import os

from portal.settings import *  # noqa: F403 - the portal's settings, unchanged

ROUTER_RULES_TOPIC = os.environ["ROUTER_RULES_TOPIC"]
