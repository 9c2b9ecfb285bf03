"""Template context every page may need."""

from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse


def single_sign_on(request) -> dict:
    """Whether the login page offers single sign-on (OIDC configured)."""
    return {"sso_enabled": settings.OIDC_ENABLED}


# The links every page's header and navigation show: {{ nav.<key> }} in base.html and layout.html.
NAVIGATION = {
    "home": "onboarding:home", "catalogue": "onboarding:catalogue", "topics": "onboarding:topic_list",
    "access": "onboarding:access", "aggregations": "onboarding:aggregation_list",
    "connectors": "onboarding:connector_list", "mappings": "onboarding:mapping_list",
    "changes": "onboarding:change_requests", "teams": "onboarding:teams", "tokens": "onboarding:tokens",
    "import": "onboarding:import", "api_docs": "api-docs", "admin": "admin:index", "logout": "logout",
}


@lru_cache(maxsize=8)
def _navigation(script_prefix: str, urlconf: str | None) -> dict[str, str]:
    return {key: reverse(name, urlconf=urlconf) for key, name in NAVIGATION.items()}


def navigation(request) -> dict:
    """The navigation's links, reversed once per process (per URL prefix and URLconf) rather than on every page:
    fifteen reverse() calls were a tenth of a small page's time."""
    return {"nav": _navigation(get_script_prefix(), get_urlconf())}
