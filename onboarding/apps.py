from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    """Teams, topics, schemas and routing subscriptions: the portal's desired state."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "onboarding"
    verbose_name = "Event platform"
