"""A malformed setting stops start-up with one clear sentence, not a library traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal.env import ConfigError, env_bool, env_database, env_host_ports, env_http_url, env_int, env_redis_url

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("reader", "value", "message"),
    [
        (env_database, "mysql://u:p@h/db", "must be a Postgres URL"),
        (env_database, "postgres://u:p@h:5432/", "names no database"),
        (env_redis_url, "localhost:6379", "must be a Redis URL"),
        (env_http_url, "registry:8081", "must be an http(s) URL"),
        (env_host_ports, "broker1:9092,broker2", "'broker2' is not"),
        (env_host_ports, "broker:99999", "'broker:99999' is not"),
        (env_bool, "perhaps", "must be a boolean"),
        (env_int, "ten", "must be a whole number"),
    ],
)
def test_malformed_values_name_the_variable(monkeypatch, reader, value, message):
    monkeypatch.setenv("PORTAL_TEST_VALUE", value)
    with pytest.raises(ConfigError) as error:
        reader("PORTAL_TEST_VALUE")
    assert "PORTAL_TEST_VALUE" in str(error.value)
    assert message in str(error.value)


def test_a_password_is_never_echoed(monkeypatch):
    monkeypatch.setenv("PORTAL_TEST_VALUE", "mysql://user:hunter2@db/portal")
    with pytest.raises(ConfigError) as error:
        env_database("PORTAL_TEST_VALUE")
    assert "hunter2" not in str(error.value)


def test_a_secret_can_come_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "db-url"
    secret.write_text("postgres://u:p@db:5432/portal\n")
    monkeypatch.delenv("PORTAL_TEST_VALUE", raising=False)
    monkeypatch.setenv("PORTAL_TEST_VALUE_FILE", str(secret))
    assert env_database("PORTAL_TEST_VALUE")["NAME"] == "portal"


def test_a_missing_variable_is_named(monkeypatch):
    monkeypatch.delenv("PORTAL_TEST_VALUE", raising=False)
    monkeypatch.delenv("PORTAL_TEST_VALUE_FILE", raising=False)
    with pytest.raises(ConfigError, match="PORTAL_TEST_VALUE is not set"):
        env_int("PORTAL_TEST_VALUE")


@pytest.mark.parametrize("reader", [env_http_url, env_host_ports])
@pytest.mark.parametrize("value", [None, "", "  "])
def test_an_optional_endpoint_is_empty_when_unset_or_blank(monkeypatch, reader, value):
    monkeypatch.delenv("PORTAL_TEST_VALUE_FILE", raising=False)
    if value is None:
        monkeypatch.delenv("PORTAL_TEST_VALUE", raising=False)
    else:
        monkeypatch.setenv("PORTAL_TEST_VALUE", value)
    assert reader("PORTAL_TEST_VALUE", "") == ""


@pytest.mark.parametrize(
    ("reader", "value", "message"),
    [(env_http_url, "registry:8081", "must be an http(s) URL"), (env_host_ports, "broker", "'broker' is not")],
)
def test_an_optional_endpoint_that_is_set_must_still_be_well_formed(monkeypatch, reader, value, message):
    monkeypatch.setenv("PORTAL_TEST_VALUE", value)
    with pytest.raises(ConfigError) as error:
        reader("PORTAL_TEST_VALUE", "")
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_URL", "sqlite:///db.sqlite3", "DATABASE_URL must be a Postgres URL"),
        ("KAFKA_BOOTSTRAP_SERVERS", "kafka", "KAFKA_BOOTSTRAP_SERVERS must be a comma-separated list"),
        ("KAFKA_SECURITY_PROTOCOL", "TLS", "KAFKA_SECURITY_PROTOCOL must be one of"),
        ("KAFKA_PROD_BOOTSTRAP_SERVERS", "kafka-prod", "KAFKA_PROD_BOOTSTRAP_SERVERS must be a comma-separated list"),
        ("DJANGO_SECRET_KEY", "short", "DJANGO_SECRET_KEY must be at least 32 characters"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT must be one of text, json"),
        ("METRICS_ALLOWED_IPS", "10.0.0.0/8,intranet", "METRICS_ALLOWED_IPS must list IP addresses or networks"),
        ("ROUTER_METRICS_PORT", "-1", "ROUTER_METRICS_PORT must be at least 0"),
    ],
)
def test_manage_py_reports_a_bad_setting_in_one_line(variable, value, message):
    env = {**os.environ, variable: value}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


ROLES = ("owner", "member", "viewer")


@pytest.mark.parametrize("value", [
    "leads=payments:owner, devs=payments:member,devs=clinical:viewer",
    '{"leads": "payments:owner", "devs": ["payments:member", "clinical:viewer"]}',
])
def test_group_roles_come_as_a_list_or_as_json(monkeypatch, value):
    from portal.env import env_group_roles

    monkeypatch.setenv("PORTAL_TEST_VALUE", value)
    assert env_group_roles("PORTAL_TEST_VALUE", roles=ROLES) == {
        "leads": [("payments", "owner")], "devs": [("payments", "member"), ("clinical", "viewer")]}


@pytest.mark.parametrize(("value", "message"), [
    ("leads", "must be a comma-separated list of group=team:role; 'leads' is not"),
    ("leads=payments", "leads=payments must be group=team:role"),
    ("leads=Payments:owner", "leads=Payments:owner must be group=team:role"),
    ("leads=payments:boss", "a role of owner, member, viewer"),
    ("=payments:owner", "=payments:owner must be group=team:role"),
    ('{"leads": 3}', "the grant of group 'leads' must be \"team:role\""),
    ('{"leads": ', "is not valid JSON"),
])
def test_a_malformed_group_role_map_names_the_variable_and_the_entry(monkeypatch, value, message):
    from portal.env import env_group_roles

    monkeypatch.setenv("PORTAL_TEST_VALUE", value)
    with pytest.raises(ConfigError) as error:
        env_group_roles("PORTAL_TEST_VALUE", roles=ROLES)
    assert "PORTAL_TEST_VALUE" in str(error.value) and message in str(error.value)


def test_an_unset_or_empty_group_role_map_maps_nothing(monkeypatch):
    from portal.env import env_group_roles

    monkeypatch.delenv("PORTAL_TEST_VALUE", raising=False)
    assert env_group_roles("PORTAL_TEST_VALUE", {}, roles=ROLES) == {}
    monkeypatch.setenv("PORTAL_TEST_VALUE", " ")
    assert env_group_roles("PORTAL_TEST_VALUE", roles=ROLES) == {}
