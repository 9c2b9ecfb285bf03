"""API throttling counted in the shared cache (Redis), failing open when the cache is down.

A Redis outage must delay background work, not take the API down with it: if the counter cannot
be read, the request is let through and the outage is logged.
"""

import logging

from rest_framework.throttling import UserRateThrottle

from onboarding.models import ApiToken

log = logging.getLogger(__name__)


class SharedUserRateThrottle(UserRateThrottle):
    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # noqa: BLE001 - any cache failure: serve rather than refuse
            log.warning("throttle cache unavailable (%s); request allowed", exc.__class__.__name__)
            return True

    def get_cache_key(self, request, view):
        # All of a team's tokens act as one automation account: each is counted on its own, so one busy
        # pipeline does not use up the rate of the team's other automation.
        token = request.auth
        if isinstance(token, ApiToken) and token.team_id is not None:
            return self.cache_format % {"scope": self.scope, "ident": f"token-{token.pk}"}
        return super().get_cache_key(request, view)
