"""What every route of the gateway's REST API shares: Confluent's error answer, the bearer token checked
against the grants table, the one cluster, and request bodies within their limits."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse

from onboarding.gateway import metrics
from onboarding.gateway.audit import Denial, key_id_of, now_iso
from onboarding.gateway.grants import Grant, denial_reason
from onboarding.gateway.ratelimit import retry_after_header

RATE_LIMITED_CODE = 42902  # a token over its rate limit (docs/api.md); 42901 is the producer queue being full
MAX_BODY_BYTES = 8 * 1024 * 1024  # one request that is not a stream; larger ones are refused with 413


class Refusal(Exception):
    """An answer other than a delivery report: Confluent's error body, with our ``errors`` map when known."""

    def __init__(self, status: int, error_code: int, message: str, *, errors: dict | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message
        self.errors, self.headers = errors, headers or {}

    def body(self) -> dict:
        body = {"error_code": self.error_code, "message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return body

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def unauthorized() -> Refusal:
    # One answer for unknown, wrong, expired and revoked tokens: a caller learns nothing about which.
    return Refusal(401, 40101, "Unauthorized: a valid team token (Authorization: Bearer pep_…) or a service "
                   "account's credentials (Authorization: Basic) are required.",
                   headers={"WWW-Authenticate": 'Bearer realm="event-gateway", Basic realm="event-gateway"'})


def authenticate(request: Request) -> Grant:
    """The request's grant, else 401; then one request of the token's rate limit, else 429. Counted and, when
    refused, audited once per request (a route that asks twice gets the first answer)."""
    known = getattr(request.state, "grant", None)
    if known is not None:
        return known
    header = request.headers.get("authorization", "")
    grant, reason = request.app.state.gateway.grants.check_authorization(header)
    metrics.decision(metrics.REST, "authenticate", reason)
    if grant is None:
        deny(request, "authenticate", reason, status=401, key_id=key_id_of(header.partition(" ")[2].strip()))
        raise unauthorized()
    wait = request.app.state.gateway.limiter.request(grant.key_id)
    if wait:
        metrics.rate_limited(metrics.REST, "requests")
        raise rate_limited(wait, "requests")
    request.state.grant = grant
    return grant


def authorise(request: Request, grant: Grant, action: str, topic: str) -> None:
    """403 unless the grant covers ``action`` ("produce" or "consume") on ``topic``; counted, a denial audited."""
    allowed = grant.may_produce(topic) if action == "produce" else grant.may_consume(topic)
    reason = "ok" if allowed else denial_reason(grant, action)
    metrics.decision(metrics.REST, action, reason)
    if not allowed:
        deny(request, action, reason, status=403, grant=grant, topic=topic)
        verb = "produce to" if action == "produce" else "consume from"
        raise Refusal(403, 40301, f"Token {grant.principal} of team {grant.team} may not {verb} {topic}.")


def admit_records(gateway, grant: Grant, topic: str, n: int) -> Refusal | None:
    """Take ``n`` records of the token's rate limit: None when they may go, else the 429 answering them (their
    records counted as rate_limited on ``topic`` here). Thread-safe: produce runs it in worker threads."""
    wait = gateway.limiter.records(grant.key_id, n)
    if not wait:
        return None
    metrics.rate_limited(metrics.REST, "records")
    metrics.produced(topic, "rate_limited", n)
    return rate_limited(wait, "records")


def rate_limited(wait: float, limit: str) -> Refusal:
    # 42902, not the producer queue's 42901: the caller's own pace, not the gateway's load.
    return Refusal(429, RATE_LIMITED_CODE, f"This token's {limit} rate limit is reached; retry after the "
                   "Retry-After seconds.", headers={"Retry-After": retry_after_header(wait)})


def deny(request: Request, action: str, reason: str, *, status: int, key_id: str = "", grant: Grant | None = None,
         topic: str = "") -> None:
    request.app.state.gateway.auditor.deny(Denial(
        at=now_iso(), request_id=getattr(request.state, "request_id", ""), protocol=metrics.REST,
        route=metrics.route_of(request.scope), action=action, reason=reason,
        key_id=grant.key_id if grant else key_id, principal=grant.principal if grant else "",
        team=grant.team if grant else "", topic=topic, status=str(status)))


def check_cluster(request: Request, cluster_id: str) -> None:
    if cluster_id != request.app.state.gateway.producer.cluster_id:
        raise Refusal(404, 40401, f"Cluster {cluster_id} cannot be found.")


async def read_body(request: Request) -> bytes:
    try:
        length = int(request.headers.get("content-length", "0"))
    except ValueError:
        length = MAX_BODY_BYTES + 1
    if length > MAX_BODY_BYTES:
        raise Refusal(413, 41301, f"The request body is larger than {MAX_BODY_BYTES} bytes; stream it instead.")
    return await request.body()


def json_body(body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refusal(400, 400, f"The request body is not JSON: {exc}", errors={"$": [str(exc)]}) from None
