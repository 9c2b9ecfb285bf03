"""The Celery application: Redis broker, configuration from Django settings (CELERY_*)."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Tasks log under the request id of the request that scheduled them (a header of the task message): django-guid's
# CeleryIntegration (DJANGO_GUID in settings) connects its signals when Django starts.


@signals.worker_process_init.connect(weak=False)
def _trace_worker_process(**_kwargs):
    # Per pool process, after the fork: span exporters run threads, which do not survive a fork.
    from portal.observability.tracing import configure_tracing

    configure_tracing("portal-worker", instrument=("celery", "requests", "psycopg"))
