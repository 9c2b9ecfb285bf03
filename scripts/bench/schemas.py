"""Benchmark: schema registration through the portal against a raw loop of registry calls.

  scripts/dev bench schemas [--subjects 500]

Portal: N Avro subjects submitted through schema_version_submit (local checks, the registry's
verdict, stored, audited) and registered by a real Celery worker, timed until all are ready.
Baseline, in the same run: a plain loop doing what a careful script does for N other subjects
(set the subject's compatibility, register the schema). Prints both and the ratio (goal <= 1.3).
Subjects are deleted from the registry afterwards.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402

from onboarding.models import Cluster, ResourceStatus, Schema, Team, Topic  # noqa: E402
from onboarding.services.clusters import cluster_create  # noqa: E402
from onboarding.services.schemas import schema_version_submit  # noqa: E402
from onboarding.services.teams import team_create  # noqa: E402
from onboarding.services.topics_bulk import TopicRequest, topics_create_many  # noqa: E402

HEADERS = {"Content-Type": "application/vnd.schemaregistry.v1+json"}


def avro(name: str) -> str:
    return json.dumps({"type": "record", "name": "Event", "namespace": f"bench.{name.replace('-', '_')}",
                       "fields": [{"name": "id", "type": "string"}, {"name": "amount", "type": "long"}]})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--subjects", type=int, default=500)
    count = parser.parse_args().subjects
    run = uuid.uuid4().hex[:6]
    url = settings.SCHEMA_REGISTRY_URL
    operator, _ = get_user_model().objects.get_or_create(username="bench-operator",
                                                         defaults={"is_staff": True, "is_superuser": True})
    team = Team.objects.filter(slug="bench").first() or team_create(actor=None, slug="bench", name="Benchmark")
    cluster = cluster_create(actor=None, name=f"bench-sr-{run}", environment="bench",
                             bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS, registry_url=url,
                             reconcile_interval_seconds=3600)
    topics = topics_create_many(actor=operator, cluster=cluster, team=team, requests=[
        TopicRequest(f"bench.sr-{run}-{i:04d}", partitions=1, replication_factor=1) for i in range(count)])
    Topic.objects.filter(cluster=cluster).update(status=ResourceStatus.READY)  # the registry part only
    raw_subjects = [f"bench.raw-{run}-{i:04d}-value" for i in range(count)]
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "portal", "worker", "-Q", "portal",
                               "--concurrency=2", "--loglevel=WARNING", "-n", f"bench-sr-{run}@%h"], cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    session = requests.Session()
    session.headers.update(HEADERS)
    try:
        time.sleep(5)
        started = time.perf_counter()
        for subject in raw_subjects:
            session.put(f"{url}/config/{subject}", data=json.dumps({"compatibility": "BACKWARD"})).raise_for_status()
            session.post(f"{url}/subjects/{subject}/versions",
                         data=json.dumps({"schema": avro(subject), "schemaType": "AVRO"})).raise_for_status()
        raw = time.perf_counter() - started

        started = time.perf_counter()
        for topic in topics:
            schema_version_submit(actor=operator, topic=topic, side="value", fmt="AVRO", text=avro(topic.name))
        submitted = time.perf_counter() - started
        schemas = Schema.objects.filter(topic__cluster=cluster)
        while schemas.exclude(status=ResourceStatus.READY).exists():
            if schemas.filter(status=ResourceStatus.FAILED).exists():
                raise SystemExit(f"failed: {schemas.filter(status='failed').first().last_error}")
            time.sleep(0.05)
        portal = time.perf_counter() - started

        print(f"subjects: {count}")
        print(f"raw loop (set mode + register):   {raw:7.2f} s")
        print(f"portal submit -> all ready:       {portal:7.2f} s (submissions {submitted:.2f} s)")
        print(f"ratio:                            {portal / raw:7.2f}  (goal <= 1.3)")
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(30)
        for subject in raw_subjects + [f"{t.name}-value" for t in topics]:
            session.delete(f"{url}/subjects/{subject}")
            session.delete(f"{url}/subjects/{subject}?permanent=true")
        Schema.objects.filter(topic__cluster=cluster).delete()
        Topic.objects.filter(cluster=cluster).delete()
        Cluster.objects.filter(pk=cluster.pk).delete()


if __name__ == "__main__":
    main()
