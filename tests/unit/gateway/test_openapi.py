"""The gateway's hand-kept OpenAPI document describes exactly the routes create_app serves, and is valid."""

import pytest
from openapi_spec_validator import validate
from starlette.routing import Route

from onboarding.gateway import openapi
from onboarding.gateway.app import Gateway, create_app
from onboarding.gateway.grants import GrantsTable

pytestmark = pytest.mark.unit


def served() -> set[tuple[str, str]]:
    app = create_app(gateway=Gateway(grants=GrantsTable(), producer=None, schemas=None), events=object())
    while not hasattr(app, "routes"):  # the Starlette app, inside the plain ASGI middlewares create_app adds
        app = app.app
    return {(route.path, method.lower()) for route in app.routes if isinstance(route, Route)
            for method in route.methods if method != "HEAD" and route.path not in openapi.UNDOCUMENTED}


def described() -> set[tuple[str, str]]:
    return {(path, method) for path, operations in openapi.DOCUMENT["paths"].items() for method in operations}


def test_every_route_is_described_and_every_described_path_is_served():
    assert served() - described() == set(), "routes missing from gateway/openapi.py"
    assert described() - served() == set(), "described in gateway/openapi.py but not served"


def test_the_document_is_valid_openapi():
    validate(openapi.document("http://gateway.example"))


def test_every_operation_has_an_id_a_summary_and_its_error_bodies():
    for path, method in described():
        operation = openapi.DOCUMENT["paths"][path][method]
        assert operation["operationId"] and operation["summary"]
        assert {"401", "429"} <= set(operation["responses"]), (path, method)
        assert operation["responses"]["429"]["headers"]["Retry-After"]
