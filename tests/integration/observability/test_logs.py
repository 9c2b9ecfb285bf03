"""Log lines are JSON objects carrying the request id that the response announces."""

import io
import json
import logging.config

import pytest
from django.conf import settings
from django.test import Client

from portal.observability.logging import logging_config

pytestmark = pytest.mark.django_db


def _configure(fmt: str) -> io.StringIO:
    """The portal's logging in ``fmt``, its console handler writing into the returned buffer."""
    logging.config.dictConfig(logging_config(fmt=fmt, level="INFO"))
    buffer = io.StringIO()
    (handler,) = logging.getLogger().handlers
    handler.setStream(buffer)
    return buffer


@pytest.fixture
def json_logs():
    yield _configure("json")
    logging.config.dictConfig(settings.LOGGING)


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_a_request_logs_json_lines_with_the_request_id_of_its_response(json_logs):
    response = Client().get("/healthz")

    request_id = response.headers["X-Request-ID"]
    lines = _json_lines(json_logs.getvalue())  # every line must parse, or json.loads raises
    access = [line for line in lines if line["logger"] == "portal.access"]
    assert len(access) == 1
    assert access[0]["request_id"] == request_id
    assert access[0]["status"] == 200 and access[0]["path"] == "/healthz"
    assert {"timestamp", "level", "logger", "message"} <= set(access[0])
    assert access[0]["level"] == "INFO"


def test_a_well_formed_incoming_request_id_is_kept_and_a_malformed_one_replaced(json_logs):
    kept = Client().get("/healthz", headers={"X-Request-ID": "ci-run-42.step-7"})
    replaced = Client().get("/healthz", headers={"X-Request-ID": "bad id\nwith a fake log line"})

    assert kept.headers["X-Request-ID"] == "ci-run-42.step-7"
    assert replaced.headers["X-Request-ID"] != "bad id\nwith a fake log line"
    assert len(replaced.headers["X-Request-ID"]) == 32
    ids = [line["request_id"] for line in _json_lines(json_logs.getvalue()) if line["logger"] == "portal.access"]
    assert ids == ["ci-run-42.step-7", replaced.headers["X-Request-ID"]]


def test_text_format_shows_the_request_id_too():
    buffer = _configure("text")
    try:
        response = Client().get("/healthz")
    finally:
        logging.config.dictConfig(settings.LOGGING)
    assert f"[{response.headers['X-Request-ID']}] GET /healthz 200" in buffer.getvalue()
