from django.apps import AppConfig


class HistoryConfig(AppConfig):
    """Row history of desired state (django-pghistory event tables), kept apart from onboarding's migrations."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "onboarding.history"
    label = "history"
    verbose_name = "History"

    def ready(self):
        from onboarding.history import tasks  # noqa: F401 - connects the Celery signals
