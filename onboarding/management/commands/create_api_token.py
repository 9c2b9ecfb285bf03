"""``manage.py create_api_token <username> [--name N] [--scope read|write] [--expires-days D]``."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from onboarding.models import ApiToken, AuditEvent
from onboarding.services.errors import ValidationError
from onboarding.services.tokens import token_create


class Command(BaseCommand):
    """Create an API token for a user and print it once: only its hash is stored."""

    help = "Create an API token for a user and print it (once: only its hash is kept)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="What the token is for, e.g. 'payments CI'.")
        parser.add_argument("--scope", choices=ApiToken.Scope.values, default=ApiToken.Scope.WRITE,
                            help="read: GET only; write: read and change (default).")
        parser.add_argument("--expires-days", type=int, default=None,
                            help="Days until the token stops working (default: never).")

    def handle(self, *args, username: str, name: str, scope: str, expires_days: int | None, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user named {username!r}.")
        if expires_days is not None and expires_days < 1:
            raise CommandError("--expires-days must be at least 1.")
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        try:
            token, plain = token_create(actor=None, user=user, name=name, scope=scope, expires_at=expires_at,
                                        via=AuditEvent.Via.SYSTEM)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        # The token alone on stdout, so scripts can capture it; the explanation goes to stderr.
        self.stdout.write(plain)
        until = f"until {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else "with no expiry"
        self.stderr.write(f"Token {token.name!r} for {username} ({scope} scope, {until}). Store it now: it cannot be "
                          f"shown again. Send it as 'Authorization: Bearer <token>'.")
