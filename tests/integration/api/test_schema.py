"""The OpenAPI schema generates cleanly and the interactive docs work without a CDN."""

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_the_schema_is_served_and_lists_the_api(alice):
    answer = APIClient().get("/api/schema/")

    assert answer.status_code == 200
    schema = yaml.safe_load(answer.content)
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/topics/", "/api/v1/topics/{id}/", "/api/v1/topics/{id}/attempts/",
            "/api/v1/clusters/{id}/import/", "/api/v1/teams/"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_the_schema_validates_without_a_single_warning(tmp_path):
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    assert target.stat().st_size > 0


def test_the_swagger_ui_loads_its_assets_from_the_portal_itself(client):
    answer = client.get("/api/docs/")

    assert answer.status_code == 200
    page = answer.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn.jsdelivr.net" not in page and "unpkg.com" not in page
    for asset in re.findall(r"/static/(drf_spectacular_sidecar/[^\"']+)", page):
        assert finders.find(asset), f"{asset} is not among the static files"
