"""A reconcile run queued for a cluster that was deleted before the worker took it ends quietly: there is
nothing left to apply, and a traceback in the worker's log would only hide the ones that matter."""

import pytest
from django.db.models import Max

from onboarding import tasks
from onboarding.models import Cluster

pytestmark = pytest.mark.django_db

RUNS = [tasks.reconcile_cluster, tasks.reconcile_schemas, tasks.reconcile_access, tasks.reconcile_aggregations,
        tasks.reconcile_connectors, tasks.reconcile_mappings, tasks.reconcile_event_store]


@pytest.mark.parametrize("run", RUNS, ids=lambda run: run.name)
def test_a_run_for_a_deleted_cluster_does_nothing_and_raises_nothing(run, cluster, caplog):
    gone = (Cluster.objects.aggregate(last=Max("pk"))["last"] or 0) + 1000

    assert run(gone) == {"skipped": "the cluster no longer exists"}
    assert f"cluster {gone} no longer exists" in caplog.text


def test_a_run_for_an_existing_cluster_still_runs(cluster):
    summary = tasks.reconcile_cluster(cluster.pk)

    assert "skipped" not in summary and summary["claimed"] == 0
