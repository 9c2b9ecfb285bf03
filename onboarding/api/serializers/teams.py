"""Teams and members: how they read, and (shapes only) how they are written; the services check every rule,
with the admin's and the pages' words.

Text fields accept blanks here so the model's own message ("This field cannot be blank.") is the one shown.
"""

from __future__ import annotations

from rest_framework import serializers

from onboarding.models import Membership, Team

ROLE_CHOICE = {"invalid_choice": "Select a valid choice. {input} is not one of the available choices."}


class TeamCreateSerializer(serializers.Serializer):
    """A new team (operators). ``slug`` is part of every topic name the team will own and never changes."""

    slug = serializers.CharField(allow_blank=True, trim_whitespace=False)
    name = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True, required=False, default="")
    contacts = serializers.CharField(allow_blank=True, required=False, default="")
    notification_emails = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False,
                                                default=list)


class TeamUpdateSerializer(serializers.Serializer):
    """Owners and operators: the fields to change; the others stay as they are."""

    name = serializers.CharField(allow_blank=True, required=False)
    description = serializers.CharField(allow_blank=True, required=False)
    contacts = serializers.CharField(allow_blank=True, required=False)


class MemberAddSerializer(serializers.Serializer):
    """A person (an existing account: made in the admin or by single sign-on) and their role."""

    username = serializers.CharField()
    role = serializers.ChoiceField(choices=Membership.Role.choices, error_messages=ROLE_CHOICE)


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Membership.Role.choices, error_messages=ROLE_CHOICE)


class MemberSerializer(serializers.ModelSerializer):
    """A person in a team, their role, and where it came from (``manual``: granted in the portal;
    ``sso``: from a single sign-on group, kept in step with the person's groups at each sign-in)."""

    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["username", "role", "source"]
        read_only_fields = fields


class TeamSerializer(serializers.ModelSerializer):
    """A team, its contacts and its members."""

    url = serializers.HyperlinkedIdentityField(view_name="api:team-detail")
    members = MemberSerializer(source="memberships", many=True, read_only=True)

    class Meta:
        model = Team
        fields = ["id", "url", "slug", "name", "description", "contacts", "notification_emails", "members",
                  "created_at"]
        read_only_fields = fields
