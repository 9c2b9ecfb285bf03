"""``manage.py create_api_token <username> [--name N] [--scope read|write] [--expires-days D]``,
or ``manage.py create_api_token --team <slug> ...`` for a team token (acting as ``<slug>-automation``)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from onboarding.errors import ValidationError
from onboarding.models import ApiToken, AuditEvent, Team
from onboarding.services.tokens import team_token_create, token_create


class Command(BaseCommand):
    """Create an API token for a user and print it once: only its hash is stored."""

    help = "Create an API token for a user and print it (once: only its hash is kept)."

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", help="The person the token acts as (or use --team).")
        parser.add_argument("--team", help="Make a team token for this team's slug instead of a personal one.")
        parser.add_argument("--name", default="cli", help="What the token is for, e.g. 'payments CI'.")
        parser.add_argument("--scope", choices=ApiToken.Scope.values, default=ApiToken.Scope.WRITE,
                            help="read: GET only; write: read and change (default).")
        parser.add_argument("--expires-days", type=int, default=None,
                            help="Days until the token stops working (default and maximum: TOKEN_MAX_DAYS).")

    def handle(self, *args, username: str | None, team: str | None, name: str, scope: str,
               expires_days: int | None, **options):
        if bool(username) == bool(team):
            raise CommandError("Give either a username (personal token) or --team <slug> (team token).")
        if expires_days is not None and expires_days < 1:
            raise CommandError("--expires-days must be at least 1.")
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        fields = {"actor": None, "name": name, "scope": scope, "expires_at": expires_at, "via": AuditEvent.Via.SYSTEM}
        try:
            if team:
                owner = Team.objects.filter(slug=team).first()
                if owner is None:
                    raise CommandError(f"There is no team with the slug {team!r}.")
                token, plain = team_token_create(team=owner, **fields)
            else:
                user = get_user_model().objects.filter(username=username).first()
                if user is None:
                    raise CommandError(f"There is no user named {username!r}.")
                token, plain = token_create(user=user, **fields)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        # The token alone on stdout, so scripts can capture it; the explanation goes to stderr.
        self.stdout.write(plain)
        self.stderr.write(f"Token {token.name!r} for {token.user.get_username()} ({scope} scope, until "
                          f"{token.expires_at:%Y-%m-%d %H:%M} UTC). Store it now: it cannot be shown again. "
                          "Send it as 'Authorization: Bearer <token>'.")
