"""Celery tasks write history under a context of their own: via=system and the task's name."""

from __future__ import annotations

import pghistory
from celery import signals

from onboarding.history.context import current

# task id -> the open context; a prefork child runs one task at a time, threads are not used.
_open: dict[str, pghistory.context] = {}


@signals.task_prerun.connect
def open_task_context(task_id=None, task=None, **_):
    if current()[0] is not None:
        return  # run eagerly inside a request: the change belongs to that request's context
    context = pghistory.context(via="system", task=task.name if task else None, task_id=task_id,
                                user=None, username=None)
    context.__enter__()
    _open[task_id] = context


@signals.task_postrun.connect
def close_task_context(task_id=None, **_):
    context = _open.pop(task_id, None)
    if context is not None:
        context.__exit__(None, None, None)
