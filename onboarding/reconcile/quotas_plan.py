"""Pure rules of service-account client quotas: what to send to Kafka and what counts as drift.

Kafka keeps quotas as doubles; the portal keeps whole numbers, so values are compared as integers. A key the
portal does not set must be absent on the cluster: a quota put on the principal outside the portal is drift.
"""

from __future__ import annotations

from collections.abc import Mapping

QUOTA_KEYS = ("producer_byte_rate", "consumer_byte_rate", "request_percentage")
LABELS = {"producer_byte_rate": "produce bytes/s", "consumer_byte_rate": "consume bytes/s",
          "request_percentage": "request %"}


def normalized(values: Mapping[str, float] | None) -> dict[str, int]:
    return {key: int(round(value)) for key, value in (values or {}).items() if key in QUOTA_KEYS and value is not None}


def operations(desired: Mapping[str, int] | None) -> dict[str, float | None]:
    """Every managed key of one principal: set what the account has, remove the rest. Sent whole each time, so
    the run needs no describe and a quota set outside the portal is replaced whatever it was."""
    desired = normalized(desired)
    return {key: desired.get(key) for key in QUOTA_KEYS}


def removal() -> dict[str, None]:
    """A deleted account leaves no quota behind."""
    return dict.fromkeys(QUOTA_KEYS)


def drift_of(desired: Mapping[str, int] | None, observed: Mapping[str, float] | None) -> dict | None:
    """The quota part of an account's drift record (JSON), None when the cluster holds what the portal says."""
    want, have = normalized(desired), normalized(observed)
    if want == have:
        return None
    return {"desired": want, "observed": have}


def describe(difference: Mapping) -> str:
    def show(values: Mapping) -> str:
        return ", ".join(f"{LABELS[k]} {v}" for k, v in sorted(values.items())) or "none"
    return (f"Client quota changed outside the portal: the cluster has {show(difference['observed'])}, "
            f"the portal {show(difference['desired'])}.")
