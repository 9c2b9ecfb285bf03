"""A Kafka Connect worker through its REST API, behind PlatformError.

Only the REST contract of Apache Kafka's Connect runtime (``ConnectorsResource``,
``ConnectorPluginsResource``) is used, so any distributed worker answers. The client knows no row: callers
pass the connector's name and config, and get plain dicts back. Connect answers errors as
``{"error_code": <HTTP status>, "message": ...}``; ``code`` on the PlatformError is that status (``"404"``,
``"409"``...), or ``timeout`` / ``unreachable`` when the worker did not answer.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import quote

import requests

from onboarding.platform.errors import PlatformError

log = logging.getLogger(__name__)

# A rebalance in progress (409) and any 5xx pass with time; 400/404/422 need another request.
_RETRYABLE_STATUSES = {409, 500, 502, 503, 504}
# A distributed worker refuses requests while a rebalance runs (409) or is about to (500, "a rebalance is
# expected": it just read a new connector config from its config topic). It refuses before acting, so any
# request, a PUT included, is safe to send again; it usually succeeds within a second or two. Waits before each
# new try, in seconds; past them the caller gets the retryable error and its own backoff.
REBALANCE_WAITS = (0.25, 0.5, 1.0, 2.0)


@dataclass(frozen=True)
class ConnectConnection:
    url: str


@dataclass(frozen=True)
class ConnectorStatus:
    """What the worker reports for one connector: its state and each task's state with its trace."""

    connector_state: str
    tasks: list[dict]
    connector_trace: str = ""

    @property
    def error(self) -> str:
        """The first trace: the connector's own, else the first failed task's."""
        if self.connector_trace:
            return self.connector_trace
        return next((t.get("trace", "") for t in self.tasks if t.get("trace")), "")

    @classmethod
    def from_answer(cls, answer: dict) -> ConnectorStatus:
        connector = answer.get("connector") or {}
        tasks = [{"id": t.get("id"), "state": t.get("state", ""), "worker_id": t.get("worker_id", ""),
                  "trace": t.get("trace", "")} for t in answer.get("tasks") or []]
        return cls(connector_state=connector.get("state", ""), tasks=tasks,
                   connector_trace=connector.get("trace", ""))


def _name(name: str) -> str:
    return quote(name, safe="")


class Connect:
    """One HTTP session to one Connect worker; close it (or use ``with``) afterwards."""

    def __init__(self, connection: ConnectConnection, *, timeout: float = 10.0,
                 session: requests.Session | None = None, rebalance_waits: tuple[float, ...] = REBALANCE_WAITS,
                 sleep=time.sleep):
        self.url = connection.url.rstrip("/")
        self.timeout = timeout
        self.rebalance_waits = rebalance_waits
        self._sleep = sleep
        self._owns_session = session is None
        self.session = session or requests.Session()

    def close(self) -> None:
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> Connect:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs):
        for wait in self.rebalance_waits:
            try:
                return self._request_once(method, path, **kwargs)
            except PlatformError as exc:
                if not is_rebalance(exc):
                    raise
                log.info("Kafka Connect at %s refused %s %s for a rebalance; sending it again in %g s",
                         self.url, method, path, wait)
            self._sleep(wait)
        return self._request_once(method, path, **kwargs)

    def _request_once(self, method: str, path: str, **kwargs):
        try:
            response = self.session.request(method, f"{self.url}{path}", timeout=self.timeout, **kwargs)
        except requests.Timeout:
            raise PlatformError(f"Kafka Connect did not answer within {self.timeout:g} s.", retryable=True,
                                code="timeout") from None
        except requests.RequestException as exc:
            raise PlatformError(f"Kafka Connect unreachable at {self.url}: {exc.__class__.__name__}",
                                retryable=True, code="unreachable") from None
        if response.status_code >= 400:
            raise _error_from(response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise PlatformError(f"Kafka Connect at {self.url} answered {response.status_code} with something that "
                                "is not JSON; is the URL right?", retryable=True, code="bad_response") from None

    # ------------------------------------------------------------------ connectors
    def connectors(self) -> list[str]:
        return sorted(self.request("GET", "/connectors") or [])

    def config(self, name: str) -> dict | None:
        """The connector's config as the worker holds it, or None when there is no such connector."""
        return self._or_none(self.request, "GET", f"/connectors/{_name(name)}/config")

    def status(self, name: str) -> ConnectorStatus | None:
        answer = self._or_none(self.request, "GET", f"/connectors/{_name(name)}/status")
        return None if answer is None else ConnectorStatus.from_answer(answer)

    def topics(self, name: str) -> list[str]:
        answer = self.request("GET", f"/connectors/{_name(name)}/topics") or {}
        return sorted((answer.get(name) or {}).get("topics") or [])

    def put_config(self, name: str, config: dict) -> dict:
        """Create the connector or replace its whole config (PUT is create-or-update)."""
        return self.request("PUT", f"/connectors/{_name(name)}/config", json=config)

    def delete(self, name: str) -> bool:
        """Delete the connector; False when it was not there."""
        return self._or_none(self.request, "DELETE", f"/connectors/{_name(name)}", default=True) is not None

    def restart(self, name: str, *, include_tasks: bool = False, only_failed: bool = False):
        params = {"includeTasks": str(include_tasks).lower(), "onlyFailed": str(only_failed).lower()}
        return self.request("POST", f"/connectors/{_name(name)}/restart", params=params)

    def pause(self, name: str) -> None:
        self.request("PUT", f"/connectors/{_name(name)}/pause")

    def resume(self, name: str) -> None:
        self.request("PUT", f"/connectors/{_name(name)}/resume")

    def stop(self, name: str) -> None:
        self.request("PUT", f"/connectors/{_name(name)}/stop")

    def set_state(self, name: str, state: str) -> None:
        """Bring the connector to ``running``, ``paused`` or ``stopped`` (the worker's verbs)."""
        {"running": self.resume, "paused": self.pause, "stopped": self.stop}[state](name)

    # ------------------------------------------------------------------ offsets (Kafka 3.6+, KIP-875)
    def offsets(self, name: str) -> list[dict]:
        return (self.request("GET", f"/connectors/{_name(name)}/offsets") or {}).get("offsets") or []

    def alter_offsets(self, name: str, offsets: list[dict]) -> str:
        """PATCH the offsets; the worker allows it only on a STOPPED connector (409 otherwise)."""
        answer = self.request("PATCH", f"/connectors/{_name(name)}/offsets", json={"offsets": offsets}) or {}
        return answer.get("message", "")

    def reset_offsets(self, name: str) -> str:
        """DELETE the offsets (start over); only on a STOPPED connector."""
        answer = self.request("DELETE", f"/connectors/{_name(name)}/offsets") or {}
        return answer.get("message", "")

    # ------------------------------------------------------------------ plugins
    def plugins(self) -> list[dict]:
        return self.request("GET", "/connector-plugins") or []

    def validate(self, connector_class: str, config: dict) -> dict[str, list[str]]:
        """Connect's own check of a config: the errors by config key (empty when valid). The plugin is
        named by its class; the config must carry ``connector.class`` too, so it is set here."""
        plugin = connector_class.rsplit(".", 1)[-1]
        body = {**config, "connector.class": connector_class}
        answer = self.request("PUT", f"/connector-plugins/{_name(plugin)}/config/validate", json=body) or {}
        return validation_errors(answer)

    @staticmethod
    def _or_none(call, *args, default=None, **kwargs):
        try:
            answer = call(*args, **kwargs)
        except PlatformError as exc:
            if exc.code == "404":
                return None
            raise
        return default if answer is None else answer


def validation_errors(answer: dict) -> dict[str, list[str]]:
    """The field errors of a ``/config/validate`` answer: ``configs[].value.{name, errors}``."""
    errors: dict[str, list[str]] = {}
    for entry in answer.get("configs") or []:
        value = entry.get("value") or {}
        if value.get("errors"):
            errors.setdefault(value.get("name", ""), []).extend(str(e) for e in value["errors"])
    return errors


def is_rebalance(error: PlatformError) -> bool:
    """The worker refused because of a rebalance, running (409) or expected (500 naming it)."""
    return error.code == "409" or (error.code.isdigit() and "rebalance" in (error.detail or "").lower())


def _error_from(response: requests.Response) -> PlatformError:
    try:
        body = response.json()
        message = body.get("message") or response.reason
    except ValueError:
        message = response.text[:300] or response.reason
    status = response.status_code
    return PlatformError(f"Kafka Connect answered {status}: {message}", retryable=status in _RETRYABLE_STATUSES,
                         code=str(status), detail=message)


def connect_connection_for(cluster) -> ConnectConnection | None:
    """The cluster's Connect worker: its own URL (admin), else the CONNECT_URL setting; None when neither."""
    from django.conf import settings

    url = (getattr(cluster, "connect_url", "") or settings.CONNECT_URL or "").rstrip("/")
    return ConnectConnection(url=url) if url else None
