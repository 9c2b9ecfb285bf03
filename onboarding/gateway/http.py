"""What every route of the gateway's REST API shares: Confluent's error answer, the bearer token checked
against the grants table, the one cluster, and request bodies within their limits."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse

from onboarding.gateway.grants import Grant

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
    return Refusal(401, 40101, "Unauthorized: a valid gateway token is required (Authorization: Bearer pep_…).",
                   headers={"WWW-Authenticate": 'Bearer realm="event-gateway"'})


def authenticate(request: Request) -> Grant:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    grant = request.app.state.gateway.grants.authenticate(token.strip()) if scheme.lower() == "bearer" else None
    if grant is None:
        raise unauthorized()
    return grant


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
