"""API-wide permission rules; who may change what within a team is decided by the services."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from onboarding.models import ApiToken
from onboarding.permissions import is_operator


class TokenScopeAllows(BasePermission):
    """A ``read`` token may only read, whatever its owner's role (session users are not limited here)."""

    message = "This token has the read scope: it cannot change anything. Use a token with the write scope."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if isinstance(token, ApiToken) and token.scope != ApiToken.Scope.WRITE:
            return request.method in SAFE_METHODS
        return True


class IsOperator(BasePermission):
    """Platform operators only (staff or superusers)."""

    message = "Only platform operators can do this."

    def has_permission(self, request, view) -> bool:
        return is_operator(request.user)
