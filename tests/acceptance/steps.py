"""Steps many journeys share, each done through the API as a team would, waiting for the reconcilers."""

from __future__ import annotations

from tests.acceptance.http import Api


def topic(api: Api, *, name: str, team: str, cluster: str = "local", **fields) -> dict:
    """Register a topic and wait until the cluster has it (status ready)."""
    created = api.created("topics/", {"cluster": cluster, "team": team, "name": name, **fields})
    return api.wait_status(f"topics/{created['id']}/")


def service_account(api: Api, *, team: str, name: str, cluster: str = "local") -> dict:
    """Create a service account; its answer (one-time password, client_settings) once the broker has the user."""
    created = api.created("service-accounts/", {"cluster": cluster, "team": team, "name": name,
                                                "description": "acceptance journey"})
    api.wait_status(f"service-accounts/{created['id']}/")
    return created


def subscription(api: Api, *, subscriber: str, source: dict, account: dict, mode: str = "direct", **fields) -> dict:
    """Ask for a topic's events; a public topic's subscription is approved at once, then applied."""
    created = api.created("subscriptions/", {"subscriber": subscriber, "source": source["id"],
                                             "service_account": account["id"], "mode": mode,
                                             "reason": "acceptance journey", **fields})
    assert created["decision"] == "approved", created
    return api.wait_status(f"subscriptions/{created['id']}/")
