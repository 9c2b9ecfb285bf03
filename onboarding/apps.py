from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OnboardingConfig(AppConfig):
    """Teams, topics, schemas and routing subscriptions: the portal's desired state."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "onboarding"
    verbose_name = "Event platform"

    def ready(self):
        # Approved change requests find their services here, so the request workflow imports none.
        from onboarding.changes import executors  # noqa: F401 - registers the executors

        post_migrate.connect(fill_empty_catalogue, sender=self)


def fill_empty_catalogue(sender, using: str = "default", **kwargs) -> None:
    """Topics registered before the catalogue existed are indexed once, right after the migration that adds
    it; from then on the services keep it current (``manage.py catalogue_rebuild`` repairs it by hand)."""
    from onboarding.models import CatalogEntry, ResourceStatus, Topic
    from onboarding.services.catalogue import catalogue_rebuild

    if using != "default" or CatalogEntry.objects.exists():
        return
    if Topic.objects.exclude(status=ResourceStatus.DELETED).exists():
        catalogue_rebuild()
