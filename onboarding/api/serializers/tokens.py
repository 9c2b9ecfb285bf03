"""API tokens: the representation (never the hash), the create shape, and the one answer with the secret."""

from __future__ import annotations

from django.core.validators import ProhibitNullCharactersValidator
from rest_framework import serializers

from onboarding.api.serializers.topics import StrictSerializer
from onboarding.models import ApiToken


class ApiTokenSerializer(serializers.ModelSerializer):
    """A personal or team token, known by its prefix once created."""

    url = serializers.HyperlinkedIdentityField(view_name="api:token-detail")
    prefix = serializers.CharField(source="display_prefix", read_only=True,
                                   help_text="pep_<key id>: how the token is recognised after creation.")
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True,
                                        help_text="The team's slug for a team token; null for a personal one.")
    acts_as = serializers.CharField(source="user.get_username", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "url", "name", "prefix", "scope", "team", "acts_as", "created_by", "created_at",
                  "expires_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


class ApiTokenSecretSerializer(ApiTokenSerializer):
    """The token with its secret: in this answer only, never again."""

    token = serializers.CharField(read_only=True, help_text="Store it now: the portal keeps only its hash.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class ApiTokenCreateSerializer(StrictSerializer):
    """A new personal token, or with ``team`` a team token (the team's owners only)."""

    name = serializers.CharField(allow_blank=True, help_text="What the token is for, e.g. 'payments CI'.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # DRF refuses a NUL with its own words; the service's (about every control character) is the one shown.
        name = self.fields["name"]
        name.validators = [v for v in name.validators if not isinstance(v, ProhibitNullCharactersValidator)]
    scope = serializers.CharField(default=ApiToken.Scope.READ, help_text="read (default) or write.")
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                           help_text="Default and maximum: TOKEN_MAX_DAYS from now.")
    team = serializers.CharField(required=False, allow_blank=True, default="",
                                 help_text="A team's slug to make a team token; leave out for a personal one.")
