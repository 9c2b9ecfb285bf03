"""The production image: built from the same requirements, runs as non-root, and its build steps work."""

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = (REPO / "Dockerfile").read_text()


def test_the_image_is_slim_non_root_and_uses_the_pinned_requirements():
    assert re.search(r"^FROM python:3\.11-slim", DOCKERFILE, re.M)
    assert "pip install -r requirements.txt" in DOCKERFILE
    user = re.findall(r"^USER (\S+)", DOCKERFILE, re.M)
    assert user and user[-1] not in {"root", "0"}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            assert "==" in line, f"unpinned requirement: {line}"


def test_the_entrypoint_knows_every_role():
    entrypoint = (REPO / "scripts" / "entrypoint").read_text()
    for role in ("web)", "worker)", "beat)", "router)", "gateway)", "aggregator)", "mapper)", "migrate)"):
        assert role in entrypoint
    assert "gunicorn portal.wsgi" in entrypoint


def test_the_image_builds_the_aggregation_engine_and_runs_the_jar_the_entrypoint_names():
    # A Maven stage builds the engine from the repo's sources (no jar is committed); the runtime copies its jar
    # to where the aggregator role runs it, beside a Java runtime.
    entrypoint = (REPO / "scripts" / "entrypoint").read_text()
    jar = re.search(r"-jar (\S+\.jar)", entrypoint).group(1)
    assert re.search(r"^FROM maven:\S+ AS \S+", DOCKERFILE, re.M), "a Maven build stage"
    assert re.search(r"^RUN mvn .*package", DOCKERFILE, re.M)
    assert re.search(r"^WORKDIR /app$", DOCKERFILE, re.M)
    copied = re.search(r"^COPY --from=\S+ \S+/aggregator\.jar (\S+)$", DOCKERFILE, re.M)
    assert copied and "/app/" + copied.group(1).removeprefix("./") == jar, f"the image must put the jar at {jar}"
    assert "aggregator/target" in (REPO / ".gitignore").read_text()  # built, never committed


def test_collectstatic_runs_with_the_build_time_settings_only(tmp_path):
    build_env = dict(re.findall(r"([A-Z_]+)=(\S+)", DOCKERFILE.split("manage.py collectstatic")[0].split("RUN ")[-1]))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "KAFKA_",
                                                                    "SCHEMA_"))}
    env.update(build_env, DJANGO_STATIC_ROOT=str(tmp_path))
    result = subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "css" / "portal.css").exists()
    assert list(tmp_path.glob("django_htmx/htmx-2*.js")), "htmx must be served from the image, not a CDN"
