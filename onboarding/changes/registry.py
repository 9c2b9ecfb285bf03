"""Operation name -> the service that performs it, for applying approved change requests.

``changes/executors.py`` registers the services when the app is ready; deciding on a request
(``changes/requests.py``) looks them up here. So the request workflow imports no service and no
service imports it back: the gated services call only the gate below them.
"""

from __future__ import annotations

from collections.abc import Callable

_EXECUTORS: dict[str, Callable] = {}


def register(operation: str, executor: Callable) -> None:
    if operation in _EXECUTORS and _EXECUTORS[operation] is not executor:
        raise ValueError(f"operation {operation!r} has an executor already")
    _EXECUTORS[operation] = executor


def execute(change: dict, *, actor, via: str, change_request):
    """Run one ``{"operation", "payload"}`` through its service, the gate passed."""
    try:
        executor = _EXECUTORS[change["operation"]]
    except KeyError:
        raise LookupError(f"no executor registered for {change['operation']!r}") from None
    return executor(actor, change["payload"], via, change_request)


def operations() -> list[str]:
    return sorted(_EXECUTORS)
