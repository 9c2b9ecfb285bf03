"""The top-level copies of indexed fields, and the hour of the event time, in documents stored before the sink
wrote them.

The sink writes a copy of each indexed field (``_i:value:ward``, ``EventStoreBinding.copy_name``) into every
document from the moment its config names the field; queries on the field read the copy (the store's index is on
it). A field indexed later therefore needs its copy in the documents already stored: after a run applied a binding
whose indexed fields grew, ``schedule`` queues the task ``onboarding.event_store_backfill``, which reads the
documents missing a copy with one cursor and sets the copies in bulk updates of the sink's batch size (FerretDB
holds a pooled Postgres connection per write in flight, see event_store_plan.MAX_BATCH_SIZE).

Why not a replay of the topic (the sink's offsets reset): the store may keep events the topic no longer has (its
retention can be longer than the topic's), a replay rewrites every document rather than adding a field, and it
would stop the sink while it runs.

The hour bucket (``_h``, the hour of ``_ts`` as the sink's EventDocument.hourOf writes it) is backfilled the same
way, once per binding (``hours`` in the state): queries read a bounded time range hour by hour only once every
document has one (``hours_covered``), since a document without it would be missed.

Progress is on the binding (``backfill``: fields, hours, state queued/running/done/failed, updated, passes, times,
error), written after every batch. The work is resumable by its filter: a document that has its copy is never
read again, so a task that died simply starts again where the copies end (the sweep queues it again when its
heartbeat is older than STALE_SECONDS, and a failed one after as long). An update sets the copies only where
the document still has none: the sink may have replaced the document meanwhile, with its own copies. Documents
the old config wrote while the new one was being applied are caught by a further pass; the backfill is done
when a pass has nothing left to update (at most MAX_PASSES).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from onboarding import queue
from onboarding.event_store_query.documents import SINK, hour_of
from onboarding.models import EventStoreBinding, ResourceStatus
from onboarding.platform import PlatformError
from onboarding.platform.event_store import EventStore
from onboarding.reconcile.event_store_plan import MAX_BATCH_SIZE

log = logging.getLogger(__name__)

TASK = "onboarding.event_store_backfill"
MAX_PASSES = 3
STALE_SECONDS = 300
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
_MISSING = object()


def hours_covered(binding: EventStoreBinding) -> bool:
    """Whether every document of the binding has its hour bucket: a backfill that set them finished."""
    state = binding.backfill or {}
    return bool(state.get("hours")) and state.get("state") == DONE


def schedule(binding: EventStoreBinding) -> bool:
    """Queue the backfill when the binding's indexed fields include one the last finished backfill did not
    cover, or no backfill gave the documents their hours yet (or one is queued or running for other fields);
    True when queued."""
    fields = sorted(binding.indexed_fields)
    state = binding.backfill or {}
    if state.get("fields") == fields and state.get("hours") and state.get("state") in (QUEUED, RUNNING, DONE):
        return False
    covered = set(state.get("fields") or []) if state.get("state") == DONE else set()
    if set(fields) <= covered and hours_covered(binding):
        # Fields only removed: every document already has the copies of those left.
        _write(binding, {**state, "fields": fields})
        return False
    token = uuid.uuid4().hex
    _write(binding, {"fields": fields, "hours": True, "state": QUEUED, "token": token, "updated": 0, "passes": 0,
                     "queued_at": _iso(timezone.now())})
    queue.send(TASK, (binding.pk, token))
    return True


def requeue_if_stale(binding: EventStoreBinding, now: datetime | None = None) -> bool:
    """From the drift check: queue again a backfill whose task is lost (no heartbeat for STALE_SECONDS) or that
    failed that long ago. The same token: the work goes on where the copies end."""
    state = binding.backfill or {}
    if state.get("state") not in (QUEUED, RUNNING, FAILED) or not state.get("token"):
        # A binding from before the hour buckets (or with no backfill yet) gets one; a finished one is left.
        return schedule(binding) if not state.get("hours") else False
    now = now or timezone.now()
    last = state.get("heartbeat_at") or state.get("finished_at") or state.get("queued_at")
    if last and now - datetime.fromisoformat(last) < timedelta(seconds=STALE_SECONDS):
        return False
    _write(binding, {**state, "state": QUEUED, "queued_at": _iso(now)})
    queue.send(TASK, (binding.pk, state["token"]))
    return True


def run_backfill(binding_id: int, token: str) -> dict:
    """The task: copy the indexed fields into the documents missing them, pass after pass until one finds
    nothing to update. Stops when the binding is gone or a newer backfill (another token) replaced this one."""
    binding = (EventStoreBinding.objects.select_related("topic__cluster").filter(pk=binding_id)
               .exclude(status=ResourceStatus.DELETED).first())
    if binding is None or (binding.backfill or {}).get("token") != token:
        return {"skipped": "superseded or unbound"}
    state = {**binding.backfill, "state": RUNNING, "started_at": _iso(timezone.now()), "error": ""}
    if not _progress(binding_id, token, state):
        return {"skipped": "superseded"}
    copies = {path: binding.copy_name(path) for path in binding.indexed_paths}
    if state.get("hours"):
        copies[SINK.time_field] = SINK.hour_field
    size = max(1, min(MAX_BATCH_SIZE, settings.EVENT_STORE_SINK_BATCH_SIZE))
    try:
        with EventStore(binding.store_uri()) as store:
            for _ in range(MAX_PASSES):
                state["passes"] = state.get("passes", 0) + 1
                updated = 0
                for batch in store.batches(binding.database_name, binding.collection_name, missing_filter(copies),
                                           projection(copies), size):
                    changes = [(document["_id"], fields) for document in batch
                               if (fields := copies_of(document, copies))]
                    changed = store.set_where_missing(binding.database_name, binding.collection_name, changes)
                    updated += changed
                    state["updated"] = state.get("updated", 0) + changed
                    if not _progress(binding_id, token, state):
                        return {"skipped": "superseded", "updated": state["updated"]}
                if not updated:
                    break
    except PlatformError as exc:
        log.warning("backfill of binding %s failed: %s", binding_id, exc)
        _progress(binding_id, token, {**state, "state": FAILED, "error": str(exc)[:1000],
                                      "finished_at": _iso(timezone.now())})
        return {"failed": str(exc), "updated": state.get("updated", 0)}
    _progress(binding_id, token, {**state, "state": DONE, "finished_at": _iso(timezone.now())})
    return {"done": True, "updated": state.get("updated", 0), "passes": state["passes"]}


def missing_filter(copies: Mapping[str, str]) -> dict:
    """Documents that have one of the fields but not its copy."""
    parts = [{copy: {"$exists": False}, path: {"$exists": True}} for path, copy in copies.items()]
    return parts[0] if len(parts) == 1 else {"$or": parts}


def projection(copies: Mapping[str, str]) -> dict:
    return {name: 1 for pair in copies.items() for name in pair}


def copies_of(document: Mapping, copies: Mapping[str, str]) -> dict:
    """The copies a document lacks, as the sink's EventDocument writes them: scalars only (null included); a
    missing field, an object or a list has none. The time field's copy is its hour bucket."""
    result = {}
    for path, copy in copies.items():
        if copy in document:
            continue
        value = _at(document, path)
        if copy == SINK.hour_field:
            if isinstance(value, datetime):
                result[copy] = hour_of(value)
        elif value is not _MISSING and not isinstance(value, Mapping | list):
            result[copy] = value
    return result


def _at(document: Mapping, path: str):
    current = document
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return _MISSING
        current = current[part]
    return current


def _progress(binding_id: int, token: str, state: dict) -> bool:
    """Write the state if this backfill is still the binding's; False when another one replaced it."""
    state = {**state, "heartbeat_at": _iso(timezone.now())}
    return EventStoreBinding.objects.filter(pk=binding_id, backfill__token=token).update(backfill=state) == 1


def _write(binding: EventStoreBinding, state: dict) -> None:
    EventStoreBinding.objects.filter(pk=binding.pk).update(backfill=state)
    binding.backfill = state


def _iso(moment: datetime) -> str:
    return moment.isoformat()
