"""API throttling counted in the shared cache (Redis), failing open when the cache is down.

A Redis outage must delay background work, not take the API down with it: if the counter cannot
be read, the request is let through and the outage is logged.
"""

import logging

from rest_framework.throttling import UserRateThrottle

log = logging.getLogger(__name__)


class SharedUserRateThrottle(UserRateThrottle):
    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # noqa: BLE001 - any cache failure: serve rather than refuse
            log.warning("throttle cache unavailable (%s); request allowed", exc.__class__.__name__)
            return True
