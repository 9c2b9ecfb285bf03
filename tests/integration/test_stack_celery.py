"""Celery is real: a task goes through Redis to a separate worker process and its result returns."""

import os

import pytest

from onboarding.tasks import platform_probe


@pytest.mark.django_db(transaction=True)
def test_a_task_runs_in_a_real_worker_and_its_result_comes_back(celery_worker, settings):
    from portal.celery import app

    assert not app.conf.task_always_eager

    report = platform_probe.delay().get(timeout=60)

    worker_pid = int(report["worker"].rsplit(":", 1)[1])
    assert worker_pid != os.getpid()
    assert report["database"] == settings.DATABASES["default"]["NAME"]
    assert report["kafka"] == "ok"
    assert report["registry"] == "ok"
