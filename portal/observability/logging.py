"""Log records with the request id and trace ids, as text (dev) or one JSON object per line (production).

python-json-logger is a formatter for the standard library's logging, so Django, Celery, confluent-kafka
and every ``logging.getLogger(__name__)`` in the portal keep working unchanged; structlog would have
meant a second logging API next to the one every library already uses.
"""

from __future__ import annotations

import logging

from django_guid.log_filters import CorrelationId

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(levelname)s %(name)s %(message)s %(request_id)s %(trace_id)s %(span_id)s"


class ContextFilter(CorrelationId):
    """Stamps every record with the current request id (django-guid's, as ``request_id``) and, while a span is
    recording, its trace ids."""

    def __init__(self, placeholder: str | None = None):
        super().__init__(correlation_id_field="request_id")
        self.placeholder = placeholder  # what a record outside any request shows: '-' in text, null in JSON

    def filter(self, record: logging.LogRecord) -> bool:
        super().filter(record)
        if record.request_id is None:
            record.request_id = self.placeholder
        record.trace_id, record.span_id = _trace_ids()
        return True


def _trace_ids() -> tuple[str | None, str | None]:
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None, None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def logging_config(*, fmt: str, level: str) -> dict:
    """The LOGGING setting for ``fmt`` ('json' or 'text'); web, worker and router all use it."""
    formatter = {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": True,  # ISO 8601 in UTC, under the key "timestamp"
        },
        "text": {"format": TEXT_FORMAT},
    }[fmt]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "portal.observability.logging.ContextFilter",
                                "placeholder": None if fmt == "json" else "-"}},
        "formatters": {"portal": formatter},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "portal", "filters": ["context"]}},
        "root": {"handlers": ["console"], "level": level},
        # django-guid says at INFO that it found or generated an id, for every request and task.
        "loggers": {"django_guid": {"level": "WARNING"}},
    }
