"""Benchmark: the portal's reconcile path against raw AdminClient batches, in the same run.

  scripts/dev bench reconcile [--topics 1000]

1. Register N topics through the service layer and time until a real Celery worker has made all
   of them ready; baseline: one raw create_topics batch of N other topics. Measured twice: one bulk
   service call (topics_create_many, as a manifest or bulk API call does) and N single calls
   (topic_create, one transaction each, as N separate form posts do).
2. Time one drift check over the N ready topics; baseline: one raw describe_configs batch of them.

Prints the figures and the ratios (goal: both at or below 1.5). Cleans up the broker afterwards.
"""

import argparse
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

from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic, ResourceType  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.utils import timezone  # noqa: E402

from onboarding.models import ApplyAttempt, Cluster, ResourceStatus, Team, Topic, TopicPolicy  # noqa: E402
from onboarding.reconcile.topics_drift import check_drift  # noqa: E402
from onboarding.services.clusters import cluster_create  # noqa: E402
from onboarding.services.teams import team_create  # noqa: E402
from onboarding.services.topics import topic_create  # noqa: E402
from onboarding.services.topics_bulk import TopicRequest, topics_create_many  # noqa: E402


def wait(futures):
    for future in futures.values():
        future.result(120)


def wait_ready(cluster):
    topics = Topic.objects.filter(cluster=cluster)
    while topics.exclude(status=ResourceStatus.READY).exists():
        if topics.filter(status=ResourceStatus.FAILED).exists():
            raise SystemExit(f"failed: {topics.filter(status='failed').first().last_error}")
        time.sleep(0.02)


def runs_of(cluster, prefix):
    attempts = ApplyAttempt.objects.filter(topic__cluster=cluster, topic__name__startswith=prefix)
    return attempts.values("run_id").distinct().count()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--topics", type=int, default=1000)
    count = parser.parse_args().topics
    run = uuid.uuid4().hex[:6]
    admin = AdminClient({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS})
    operator, _ = get_user_model().objects.get_or_create(username="bench-operator",
                                                         defaults={"is_staff": True, "is_superuser": True})
    team = Team.objects.filter(slug="bench").first() or team_create(actor=None, slug="bench", name="Benchmark")
    cluster = cluster_create(actor=None, name=f"bench-{run}", environment="bench",
                             bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS, reconcile_interval_seconds=3600)
    TopicPolicy.objects.filter(cluster=cluster).update(max_partitions=64)
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "portal", "worker", "-Q", "portal",
                               "--concurrency=2", "--loglevel=WARNING", "-n", f"bench-{run}@%h"], cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    raw_names = [f"bench.raw-{run}-{i:05d}" for i in range(count)]
    bulk_names = [f"bench.bulk-{run}-{i:05d}" for i in range(count)]
    portal_names = [f"bench.portal-{run}-{i:05d}" for i in range(count)]
    try:
        time.sleep(5)  # let the worker connect before the clock starts
        started = time.perf_counter()
        wait(admin.create_topics([NewTopic(n, 1, 1) for n in raw_names], operation_timeout=120))
        raw_create = time.perf_counter() - started

        wall_start, started = timezone.now(), time.perf_counter()
        topics_create_many(actor=operator, cluster=cluster, team=team,
                           requests=[TopicRequest(n, partitions=1, replication_factor=1) for n in bulk_names])
        bulk_registered = time.perf_counter() - started
        wait_ready(cluster)
        bulk_create = time.perf_counter() - started
        bulk_runs = runs_of(cluster, "bench.bulk")
        first = ApplyAttempt.objects.filter(topic__cluster=cluster).order_by("started_at").first()
        last_ready = Topic.objects.filter(cluster=cluster).order_by("-ready_at").first().ready_at
        queue_wait = (first.started_at - wall_start).total_seconds() - bulk_registered
        run_time = (last_ready - first.started_at).total_seconds()

        started = time.perf_counter()
        for name in portal_names:
            topic_create(actor=operator, cluster=cluster, team=team, name=name, partitions=1, replication_factor=1)
        registered = time.perf_counter() - started
        wait_ready(cluster)
        portal_create = time.perf_counter() - started
        runs = runs_of(cluster, "bench.portal")

        # Created topics reach the broker's metadata cache a moment after the controller commits them.
        deadline = time.monotonic() + 30
        while (missing := set(portal_names + bulk_names) - set(admin.list_topics(timeout=30).topics)) \
                and time.monotonic() < deadline:
            time.sleep(0.5)
        if missing:
            sample = Topic.objects.filter(cluster=cluster, name__in=missing).first()
            attempts = list(sample.attempts.values("run_id", "actions", "outcome", "error", "started_at"))
            raise SystemExit(f"{len(missing)} ready topics are not on the broker, e.g. {sample.name}: {attempts}")
        resources = [ConfigResource(ResourceType.TOPIC, n) for n in portal_names + bulk_names]
        started = time.perf_counter()
        wait(admin.describe_configs(resources))
        raw_describe = time.perf_counter() - started
        started = time.perf_counter()
        report = check_drift(cluster.pk)
        portal_sweep = time.perf_counter() - started
        assert report.checked == 2 * count and not report.drifted, report

        print(f"topics: {count}")
        print(f"raw create_topics batch:          {raw_create:7.2f} s")
        print(f"portal bulk register -> ready:    {bulk_create:7.2f} s "
              f"(service call {bulk_registered:.2f} s, queue to claim {queue_wait:.2f} s, run {run_time:.2f} s, "
              f"{bulk_runs} reconcile runs)")
        print(f"ratio create (bulk):              {bulk_create / raw_create:7.2f}  (goal <= 1.5)")
        print(f"portal {count} single registers -> ready: {portal_create:7.2f} s "
              f"(service calls {registered:.2f} s, {runs} reconcile runs)")
        print(f"ratio create (single calls):      {portal_create / raw_create:7.2f}")
        print(f"raw describe_configs batch ({2 * count}): {raw_describe:7.2f} s")
        print(f"portal drift check (sweep):       {portal_sweep:7.2f} s")
        print(f"ratio sweep:                      {portal_sweep / raw_describe:7.2f}  (goal <= 1.5)")
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(30)
        existing = set(admin.list_topics(timeout=30).topics) & set(raw_names + bulk_names + portal_names)
        if existing:
            wait(admin.delete_topics(list(existing), operation_timeout=120))
        Topic.objects.filter(cluster=cluster).delete()
        Cluster.objects.filter(pk=cluster.pk).delete()


if __name__ == "__main__":
    main()
