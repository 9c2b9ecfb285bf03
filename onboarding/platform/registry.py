"""The Schema Registry through its Confluent-compatible REST API, behind PlatformError.

Only the Confluent contract is used, so Confluent Schema Registry, Apicurio (ccompat), Karapace
or Redpanda all work. Where registries answer the same question differently (a missing subject,
an unset compatibility level), the difference is absorbed here and noted next to the call.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from urllib.parse import quote

import requests

from onboarding.platform.connection import RegistryConnection, default_registry_connection
from onboarding.platform.errors import PlatformError
from portal.observability.tracing import traced_methods

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"

# Confluent error codes (Apicurio's ccompat API uses the same ones).
SUBJECT_NOT_FOUND = 40401
VERSION_NOT_FOUND = 40402
SCHEMA_NOT_FOUND = 40403
SUBJECT_SOFT_DELETED = 40404
VERSION_SOFT_DELETED = 40406
SUBJECT_COMPATIBILITY_NOT_SET = 40408
INCOMPATIBLE = 409
INVALID_SCHEMA = 42201
REFERENCE_EXISTS = 42206
_RETRYABLE_ERROR_CODES = {50001, 50002, 50003}

# Subjects the portal makes for the moment of one syntax check (see check_syntax). Team topics start
# with the team's slug, so an underscore prefix can never be one of their subjects. A probe is named
# <prefix><format>-<unix seconds>-<random>, so the sweep can tell a leftover from a check in progress.
SYNTAX_PROBE_PREFIX = "_portal-syntax-check-"
PROBE_GRACE_SECONDS = 300.0
# The smallest schema of each format that every registry accepts. Apicurio discovers a JSON Schema
# from its content and rejects one without "$schema" or "properties", hence the "$schema".
SYNTAX_PROBES = {
    "AVRO": '"string"',
    "JSON": '{"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}',
    "PROTOBUF": 'syntax = "proto3";\npackage portal.syntaxcheck;\n\nmessage SyntaxCheck {}\n',
}
# Apicurio prefixes some messages with the Java exception's class name, which means nothing to a team.
_PROBE_NAME = re.compile(r"-(\d{10,})-[0-9a-f]+$")
log = logging.getLogger(__name__)
_JAVA_EXCEPTION = re.compile(r"^(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error):\s*")


@traced_methods("registry", skip=("request", "close"))
class Registry:
    """One HTTP session to one registry; make one per reconcile run and close it afterwards."""

    def __init__(self, connection: RegistryConnection | None = None, *, timeout: float = 10.0,
                 session: requests.Session | None = None):
        self.connection = connection or default_registry_connection()
        self.timeout = timeout
        self._owns_session = session is None
        self.session = session or _new_session(self.connection)

    @classmethod
    def shared(cls, connection: RegistryConnection) -> Registry:
        """A client on the process's kept-alive session for this registry, for checks made while a
        person waits (a new TCP connection per check would double its cost)."""
        key = (connection.url, connection.username)
        session = _SHARED_SESSIONS.get(key)
        if session is None:
            session = _SHARED_SESSIONS[key] = _new_session(connection)
        return cls(connection, session=session)

    def close(self) -> None:
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs):
        url = f"{self.connection.url}{path}"
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.Timeout:
            raise PlatformError(f"Schema Registry did not answer within {self.timeout:g} s.", retryable=True,
                                code="timeout") from None
        except requests.RequestException as exc:
            raise PlatformError(f"Schema Registry unreachable: {exc.__class__.__name__}", retryable=True,
                                code="unreachable") from None
        if response.status_code >= 400:
            raise _error_from(response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            # A proxy or a wrong URL answering with a web page: worth retrying once someone fixes it.
            raise PlatformError(f"Schema Registry at {self.connection.url} answered {response.status_code} with "
                                "something that is not JSON; is the URL right?", retryable=True,
                                code="bad_response") from None

    def ping(self) -> None:
        self.request("GET", "/subjects")

    def _request_or(self, default, missing: set[int], method: str, path: str, **kwargs):
        """The answer, or ``default`` when the registry says the thing is not there (codes ``missing``)."""
        try:
            return self.request(method, path, **kwargs)
        except PlatformError as exc:
            if exc.code in {str(code) for code in missing}:
                return default
            raise

    # ------------------------------------------------------------------ subjects and versions
    def subjects(self, prefix: str = "") -> list[str]:
        params = {"subjectPrefix": prefix} if prefix else None
        # Older registries ignore subjectPrefix, so filter here too.
        return sorted(s for s in self.request("GET", "/subjects", params=params) or [] if s.startswith(prefix))

    def versions(self, subject: str) -> list[int]:
        """Live (not soft-deleted) versions; [] when the subject does not exist or is soft-deleted."""
        found = self._request_or([], {SUBJECT_NOT_FOUND, SUBJECT_SOFT_DELETED}, "GET",
                                 f"/subjects/{_q(subject)}/versions")
        return sorted(found)

    def get_version(self, subject: str, version: int | str) -> dict:
        data = self.request("GET", f"/subjects/{_q(subject)}/versions/{version}")
        return {"subject": data.get("subject", subject), "id": data["id"], "version": data["version"],
                "schema": data["schema"], "schemaType": data.get("schemaType") or "AVRO",
                "references": data.get("references") or []}

    def schema_by_id(self, schema_id: int) -> dict:
        """The schema registered under this global id, whatever its subject (40403 when there is none)."""
        data = self.request("GET", f"/schemas/ids/{int(schema_id)}")
        return {"id": int(schema_id), "schema": data["schema"], "schemaType": data.get("schemaType") or "AVRO",
                "references": data.get("references") or []}

    def lookup(self, subject: str, text: str, fmt: str) -> dict | None:
        """The registered version of this schema under the subject (id, version), or None."""
        data = self._request_or(None, {SUBJECT_NOT_FOUND, SCHEMA_NOT_FOUND, SUBJECT_SOFT_DELETED}, "POST",
                                f"/subjects/{_q(subject)}", json=_payload(text, fmt))
        return None if data is None else {"id": data["id"], "version": data["version"]}

    def register(self, subject: str, text: str, fmt: str) -> int:
        """Register the schema as the subject's next version (or return its id if it is the same as one)."""
        try:
            data = self.request("POST", f"/subjects/{_q(subject)}/versions", json=_payload(text, fmt))
        except PlatformError as exc:
            if exc.code == str(INCOMPATIBLE):
                raise PlatformError(f"The Schema Registry refused the new version of {subject} as incompatible "
                                    f"with its earlier versions: {_plain(exc.detail)}", retryable=False,
                                    code="incompatible") from None
            if exc.code == str(INVALID_SCHEMA):
                raise PlatformError(f"The Schema Registry refused the schema of {subject} as invalid: "
                                    f"{_plain(exc.detail)}", retryable=False, code="invalid_schema") from None
            raise
        return int(data["id"])

    def delete_version(self, subject: str, version: int, *, permanent: bool = False) -> None:
        """Soft-delete one version (it stays readable by id); an already deleted one is fine."""
        params = {"permanent": "true"} if permanent else None
        self._request_or(None, {SUBJECT_NOT_FOUND, VERSION_NOT_FOUND, VERSION_SOFT_DELETED}, "DELETE",
                         f"/subjects/{_q(subject)}/versions/{version}", params=params)

    def delete_subject(self, subject: str, *, permanent: bool) -> list[int]:
        """Soft or permanent delete; permanent needs a soft delete first. A subject already in the wanted
        state answers []. Returns the deleted version numbers."""
        params = {"permanent": "true"} if permanent else None
        # Soft-deleting twice answers 40404; anything deleted answers 40401 to a permanent delete.
        already = {SUBJECT_NOT_FOUND} if permanent else {SUBJECT_NOT_FOUND, SUBJECT_SOFT_DELETED}
        try:
            return sorted(self._request_or([], already, "DELETE", f"/subjects/{_q(subject)}", params=params))
        except PlatformError as exc:
            if exc.code == str(REFERENCE_EXISTS):
                raise PlatformError(f"{subject} cannot be deleted: other schemas reference it. Delete or change "
                                    "those first.", retryable=False, code="referenced") from None
            raise

    def referenced_by(self, subject: str, version: int) -> list[int]:
        """Ids of schemas that reference this version; [] when it does not exist."""
        return sorted(self._request_or([], {SUBJECT_NOT_FOUND, VERSION_NOT_FOUND}, "GET",
                                       f"/subjects/{_q(subject)}/versions/{version}/referencedby"))

    # ------------------------------------------------------------------ compatibility
    def check_compatibility(self, subject: str, text: str, fmt: str, version: int | str = "latest") -> bool:
        """Would the registry accept this schema after ``version``? A subject without versions accepts
        anything (Apicurio answers true, Confluent answers 40401 or true depending on its release)."""
        missing = {SUBJECT_NOT_FOUND} | ({VERSION_NOT_FOUND} if version == "latest" else set())
        data = self._request_or({"is_compatible": True}, missing, "POST",
                                f"/compatibility/subjects/{_q(subject)}/versions/{version}",
                                json=_payload(text, fmt))
        return bool(data.get("is_compatible"))

    def global_compatibility(self) -> str:
        data = self.request("GET", "/config")
        return data.get("compatibilityLevel") or data.get("compatibility")

    def get_compatibility(self, subject: str) -> str | None:
        """The subject's own compatibility level, None when it has none (the global default applies)."""
        level = self._subject_config(subject, default_to_global=False)
        if level == "NONE":
            # Apicurio answers NONE for "not set"; asking with the global fallback tells the two apart,
            # because a level set on the subject wins over the global one. (If both are NONE the
            # distinction does not matter: the registry behaves the same.)
            if self._subject_config(subject, default_to_global=True) != "NONE":
                return None
        return level

    def _subject_config(self, subject: str, *, default_to_global: bool) -> str | None:
        # Confluent answers 40408 for an unset level, Apicurio 40401 for a subject it never heard of.
        data = self._request_or(None, {SUBJECT_NOT_FOUND, SUBJECT_COMPATIBILITY_NOT_SET}, "GET",
                                f"/config/{_q(subject)}",
                                params={"defaultToGlobal": "true" if default_to_global else "false"})
        return None if data is None else (data.get("compatibilityLevel") or data.get("compatibility"))

    def set_compatibility(self, subject: str, mode: str) -> None:
        """Set the subject's level; registries accept this before the subject's first version."""
        self.request("PUT", f"/config/{_q(subject)}", json={"compatibility": mode})

    # ------------------------------------------------------------------ syntax
    def check_syntax(self, text: str, fmt: str) -> str | None:
        """The registry's complaint about the schema's syntax, or None when it parses. Registers nothing
        that stays.

        The check is a compatibility test against a probe subject of the same format whose level is
        NONE: registries parse the candidate first (422 42201 when it does not parse) and then, at NONE,
        call anything compatible. A probe is needed because Apicurio skips parsing when the subject
        does not exist, and parses the candidate as the probe subject's format. Each check has its own
        probe, removed (soft, then hard) right after, so the company registry keeps no portal subjects
        and a concurrent check never loses its probe halfway. A probe whose removal failed is left to
        remove_stale_probes (the sweep).
        """
        probe = probe_subject(fmt)
        reachable = True
        try:
            # Level first, so the probe never gives a BACKWARD verdict, even for a moment.
            self.set_compatibility(probe, "NONE")
            self.register(probe, SYNTAX_PROBES[fmt], fmt)
            self.request("POST", f"/compatibility/subjects/{_q(probe)}/versions/latest", json=_payload(text, fmt))
        except PlatformError as exc:
            if exc.code == str(INVALID_SCHEMA):
                return _plain(exc.detail)
            # A registry that does not answer would only make the clean-up wait too; the sweep does it.
            reachable = exc.code not in ("timeout", "unreachable")
            raise
        finally:
            if reachable:
                self._drop_probe(probe)
        return None

    def validate(self, text: str, fmt: str) -> None:
        """check_syntax as an error: PlatformError(retryable=False, code="invalid_schema") when it does not parse."""
        problem = self.check_syntax(text, fmt)
        if problem is not None:
            raise PlatformError(f"The Schema Registry cannot parse the schema: {problem}", retryable=False,
                                code="invalid_schema", detail=problem)

    def _drop_probe(self, probe: str) -> bool:
        try:
            self.delete_subject(probe, permanent=False)
            self.delete_subject(probe, permanent=True)
        except PlatformError as exc:
            # Never hide the check's own answer (or error) behind the clean-up's: the sweep retries it.
            log.warning("syntax probe %s left in the registry: %s", probe, exc)
            return False
        return True

    def remove_stale_probes(self, *, now: float | None = None, older_than: float = PROBE_GRACE_SECONDS) -> list[str]:
        """Remove probe subjects left behind (a failed clean-up, a killed process, or the long-lived probes
        of earlier releases). Probes younger than ``older_than`` seconds may belong to a check still
        running and are kept. Returns the subjects removed."""
        now = time.time() if now is None else now
        # deleted=true also lists soft-deleted probes, whose hard delete failed; older registries ignore the prefix.
        found = self.request("GET", "/subjects", params={"deleted": "true", "subjectPrefix": SYNTAX_PROBE_PREFIX}) or []
        stale = [s for s in found if s.startswith(SYNTAX_PROBE_PREFIX) and now - _probe_born(s) >= older_than]
        return [probe for probe in sorted(stale) if self._drop_probe(probe)]


_SHARED_SESSIONS: dict[tuple[str, str | None], requests.Session] = {}


def probe_subject(fmt: str, *, now: float | None = None) -> str:
    born = int(time.time() if now is None else now)
    return f"{SYNTAX_PROBE_PREFIX}{fmt.lower()}-{born}-{secrets.token_hex(4)}"


def _probe_born(subject: str) -> float:
    """When a probe was made; 0 for one without a time (the long-lived probes of earlier releases)."""
    match = _PROBE_NAME.search(subject)
    return float(match.group(1)) if match else 0.0


def _new_session(connection: RegistryConnection) -> requests.Session:
    session = requests.Session()
    session.headers.update({"Content-Type": CONTENT_TYPE, "Accept": CONTENT_TYPE})
    if connection.username:
        session.auth = (connection.username, connection.password)
    return session


def _q(subject: str) -> str:
    return quote(subject, safe="")


def _payload(text: str, fmt: str) -> dict:
    # Registries before Confluent 5.5 know only Avro and no schemaType field, so it is sent only when needed.
    return {"schema": text} if fmt == "AVRO" else {"schema": text, "schemaType": fmt}


def _plain(message: str) -> str:
    return _JAVA_EXCEPTION.sub("", message or "").strip()


def _error_from(response) -> PlatformError:
    try:
        body = response.json()
        detail = str(body.get("message") or response.reason)
        code = str(body.get("error_code", response.status_code))
    except (ValueError, AttributeError):
        detail, code = (response.text or response.reason or "")[:200], str(response.status_code)
    status = response.status_code
    retryable = status >= 500 or status in (408, 429) or (code.isdigit() and int(code) in _RETRYABLE_ERROR_CODES)
    if status in (401, 403):
        message = f"Schema Registry refused the portal's credentials ({status}): {_plain(detail)}"
    else:
        message = f"Schema Registry answered {status} (error {code}): {_plain(detail)}"
    return PlatformError(message, retryable=retryable, code=code, detail=detail)
