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


def test_every_path_is_documented_once_without_format_suffix_twins():
    paths = yaml.safe_load(APIClient().get("/api/schema/").content)["paths"]

    assert [path for path in paths if "{format}" in path or path.endswith(".json")] == []
    assert len({path.rstrip("/") for path in paths}) == len(paths)


@pytest.mark.parametrize("path", ["/api/v1/topics.json", "/api/v1/topics/1.json", "/api/v1/.json"])
def test_a_format_suffix_is_no_route_but_a_json_404(alice, path):
    client = APIClient()
    client.force_authenticate(alice)

    answer = client.get(path)

    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/json"
    assert "No such API endpoint" in answer.json()["detail"]
