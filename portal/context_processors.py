"""Template context every page may need."""

from django.conf import settings


def single_sign_on(request) -> dict:
    """Whether the login page offers single sign-on (OIDC configured)."""
    return {"sso_enabled": settings.OIDC_ENABLED}
