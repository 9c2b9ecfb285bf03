"""Rules for webhook input: pure functions (no database, no network), shared by the services and the
delivery worker, so the browser form, the API and the admin show the same messages."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from urllib.parse import urlsplit

from onboarding.models.notifications import SUBSCRIBABLE_EVENTS

MAX_NAME = 80
MAX_URL = 500
URL_HELP = "Enter an http or https URL, e.g. https://hooks.example.org/portal."
PRIVATE_URL = "Webhooks cannot point at loopback, private or link-local addresses."


def name_problems(name: str) -> list[str]:
    if not name:
        return ["Enter a name."]
    if len(name) > MAX_NAME:
        return [f"Use at most {MAX_NAME} characters."]
    return []


def url_problems(url: str, *, block_private: bool) -> list[str]:
    """What is wrong with a webhook URL; literal addresses are judged here, host names when delivering."""
    if not url:
        return ["Enter the URL the events are sent to."]
    if len(url) > MAX_URL:
        return [f"Use at most {MAX_URL} characters."]
    try:
        parts = urlsplit(url)
        _ = parts.port  # urllib checks the port only when it is read
    except ValueError:
        return [URL_HELP]
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        return [URL_HELP]
    if parts.username or parts.password:
        return ["Do not put a user name or password in the URL; the signature authenticates the portal."]
    if block_private and host_is_private(parts.hostname):
        return [PRIVATE_URL]
    return []


def host_is_private(host: str) -> bool:
    """True for 'localhost' and literal loopback, private, link-local or reserved addresses."""
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False  # a host name: checked against its resolved addresses when delivering
    return address_is_private(address)


def address_is_private(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (address.is_private or address.is_loopback or address.is_link_local or address.is_reserved
            or address.is_multicast or address.is_unspecified)


def event_problems(events: list[str]) -> list[str]:
    if not events:
        return ["Choose at least one event."]
    unknown = [e for e in events if e not in SUBSCRIBABLE_EVENTS]
    if unknown:
        names = ", ".join(repr(e) for e in unknown)
        return [f"Unknown event {names}; choose from {', '.join(SUBSCRIBABLE_EVENTS)}."]
    return []


def signature(secret: str, timestamp: str, body: str) -> str:
    """``sha256=<hex>``: HMAC-SHA256 with the webhook's secret over ``<timestamp>.<body>``.

    The timestamp is signed too, so a receiver that rejects old timestamps is safe from replays.
    """
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def backoff_seconds(attempts: int, *, base: int, maximum: int) -> int:
    """Delay before the next try after ``attempts`` failed ones: base, 2×base, 4×base … capped."""
    return min(maximum, base * 2 ** max(0, attempts - 1))
