from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models


class Team(models.Model):
    """A department or squad that owns topics, schemas and service accounts."""

    slug = models.SlugField(
        max_length=40,
        unique=True,
        validators=[RegexValidator(r"^[a-z][a-z0-9-]*$",
                                   "Use lowercase letters, digits and '-', starting with a letter.")],
        help_text="Short name used in topic names (the policy's {team} placeholder).",
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    contacts = models.TextField(blank=True,
                                help_text="How to reach the team: e-mail addresses, chat channels, on-call.")
    notification_emails = ArrayField(models.EmailField(), default=list, blank=True,
                                     help_text="Addresses that receive an e-mail for every notification event.")
    created_at = models.DateTimeField(auto_now_add=True)
    automation_user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL,
        related_name="automation_team",
        help_text="The account team API tokens act as (<team>-automation): a member that cannot log in.")

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Membership(models.Model):
    """A person's role in a team: owners and members write, viewers read."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"
        VIEWER = "viewer", "Viewer"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    class Source(models.TextChoices):
        MANUAL = "manual", "Granted in the portal"
        SSO = "sso", "From a single sign-on group"

    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL,
                              help_text="Memberships from single sign-on follow the person's groups at each sign-in; "
                                        "the others are never changed by it.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "team"], name="membership_unique_user_team")]
        ordering = ["team__slug", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"

    @property
    def can_write(self) -> bool:
        return self.role in (self.Role.OWNER, self.Role.MEMBER)
