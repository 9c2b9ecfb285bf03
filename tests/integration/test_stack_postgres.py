"""Postgres is real: the test database is Postgres and migrations apply from zero."""

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.db import connection

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_the_test_database_is_postgres():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("select version()")
        assert cursor.fetchone()[0].startswith("PostgreSQL")


def test_migrations_apply_to_an_empty_database_and_match_the_models():
    url = urlsplit(os.environ["DATABASE_URL"])
    scratch = f"portal_migrate_{uuid.uuid4().hex[:8]}"
    admin_url = urlunsplit(url._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'create database "{scratch}"')
    try:
        env = {**os.environ, "DATABASE_URL": urlunsplit(url._replace(path=f"/{scratch}"))}
        for command in (["migrate", "--noinput"], ["makemigrations", "--check", "--dry-run"]):
            result = subprocess.run([sys.executable, "manage.py", *command], cwd=REPO, env=env,
                                    capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, result.stdout + result.stderr
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{scratch}" with (force)')
