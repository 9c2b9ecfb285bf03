import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "pep"


class ApiToken(models.Model):
    """A bearer token for automation. Only a SHA-256 hash is stored; the token is shown once.

    A personal token acts as its ``user``. A team token (``team`` set) acts as the team's automation
    account (``Team.automation_user``, a member of the team that cannot log in), so it keeps working
    when the person who made it (``created_by``) leaves, and every role check applies to it unchanged.
    """

    class Scope(models.TextChoices):
        READ = "read", "Read only"
        WRITE = "write", "Read and write"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens",
                             help_text="Who the token acts as: a person, or a team's automation account.")
    team = models.ForeignKey("onboarding.Team", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="api_tokens", help_text="Set for a team token.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", help_text="Who made the token (kept for attribution).")
    name = models.CharField(max_length=80)
    key_id = models.CharField(max_length=12, unique=True, help_text="Public part, used to find the token.")
    key_hash = models.CharField(max_length=64)
    scope = models.CharField(max_length=5, choices=Scope.choices, default=Scope.WRITE)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({TOKEN_PREFIX}_{self.key_id}_…)"

    @staticmethod
    def hash(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def new(cls, *, user, name: str, scope: str = Scope.WRITE, expires_at=None, team=None,
            created_by=None) -> tuple["ApiToken", str]:
        """Create a token; returns it with the plain text, which is never stored."""
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, key_id=key_id, key_hash=cls.hash(secret), scope=scope,
                                   expires_at=expires_at, team=team,
                                   created_by=created_by if team is not None else created_by or user)
        return token, f"{TOKEN_PREFIX}_{key_id}_{secret}"

    @property
    def display_prefix(self) -> str:
        """What identifies the token once its secret is gone: ``pep_<key id>``."""
        return f"{TOKEN_PREFIX}_{self.key_id}"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())
