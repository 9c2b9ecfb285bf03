"""The event gateway's REST API as a team's HTTP client uses it: a base URL and a team token, nothing else.

Streamed requests go out as a real client sends them (a generator body: `Transfer-Encoding: chunked`), and
streamed answers are read as they arrive: delivery reports as concatenated JSON (REST Proxy v3 says
concatenated; one object a line is that too), Server-Sent Events line by line.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from collections.abc import Iterable, Iterator

import requests

from tests.acceptance.http import Api, wait_for

TIMEOUT = 30
_DECODER = json.JSONDecoder()


def team_gateway(owner: Api, url: str, *, team: str, name: str) -> RestGateway:
    """A write token of `team` made through the portal's API by one of its owners, once the gateway takes it
    (the worker's access run writes the token's grant; the gateway follows the grants table)."""
    token = owner.created("tokens/", {"name": name, "scope": "write", "team": team})["token"]
    client = RestGateway(url, token)
    wait_for(client.cluster_id, timeout=60, message=f"the gateway to accept the token {name!r}")
    return client


class RestGateway:
    def __init__(self, url: str, token: str):
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"}
        self._cluster_id: str | None = None

    def cluster_id(self) -> str | None:
        """The one cluster's id from `GET /v3/clusters` (None until the gateway accepts the token)."""
        answer = requests.get(f"{self.url}/v3/clusters", headers=self.headers, timeout=TIMEOUT)
        if answer.status_code != 200:
            return None
        self._cluster_id = answer.json()["data"][0]["cluster_id"]
        return self._cluster_id

    def topic_url(self, topic: str, path: str) -> str:
        cluster = self._cluster_id or self.cluster_id()
        return f"{self.url}/v3/clusters/{cluster}/topics/{topic}/{path}"

    # ------------------------------------------------------------------------------------------------ produce
    def produce(self, topic: str, record: dict, *, headers: dict | None = None) -> requests.Response:
        """One record, one delivery report (``headers``: the request's own, a ``traceparent`` say)."""
        return requests.post(self.topic_url(topic, "records"), json=record, headers={**self.headers, **(headers or {})},
                             timeout=TIMEOUT)

    def produce_stream(self, topic: str, chunks: Iterable[bytes], *,
                       headers: dict | None = None) -> tuple[requests.Response, list[dict]]:
        """A chunked request of the given body chunks; the answer and its delivery reports, in order."""
        answer = requests.post(self.topic_url(topic, "records"), data=iter(chunks),
                               headers={**self.headers, "Content-Type": "application/json", **(headers or {})},
                               timeout=TIMEOUT)
        return answer, concatenated_json(answer.text) if answer.status_code == 200 else []

    def produce_batch(self, topic: str, entries: list[dict]) -> requests.Response:
        return requests.post(self.topic_url(topic, "records:batch"), json={"entries": entries}, headers=self.headers,
                             timeout=TIMEOUT)

    # ------------------------------------------------------------------------------------------------ consume
    def events(self, topic: str, group: str, *, cursor: str | None = None, max_events: int = 100,
               wait_ms: int = 0) -> requests.Response:
        params = {"group": group, "max": max_events, "wait_ms": wait_ms, **({"cursor": cursor} if cursor else {})}
        return requests.get(self.topic_url(topic, "events"), params=params, headers=self.headers, timeout=TIMEOUT)

    def commit(self, topic: str, group: str, cursor: str) -> requests.Response:
        return requests.post(self.topic_url(topic, "events:commit"), json={"group": group, "cursor": cursor},
                             headers=self.headers, timeout=TIMEOUT)

    def sse(self, topic: str, group: str, count: int, *, last_event_id: str | None = None,
            timeout: float = 60) -> list[tuple[str, dict]]:
        """The first `count` events of an SSE stream as (id, event), or those that came within `timeout` seconds
        (the stream's keepalives end the wait); then the client goes away."""
        with self.sse_stream(topic, group, last_event_id=last_event_id, timeout=timeout) as events:
            return list(itertools.islice(events, count))

    @contextlib.contextmanager
    def sse_stream(self, topic: str, group: str, *, last_event_id: str | None = None,
                   timeout: float = 60) -> Iterator[Iterator[tuple[str, dict]]]:
        """An open SSE stream: its events as (id, event) while it lasts (at most `timeout` seconds); leaving the
        block closes the connection."""
        headers = {**self.headers, "Accept": "text/event-stream",
                   **({"Last-Event-ID": last_event_id} if last_event_id else {})}
        with requests.get(self.topic_url(topic, "events:stream"), params={"group": group}, headers=headers,
                          stream=True, timeout=(10, 60)) as answer:
            assert answer.status_code == 200, answer.text
            assert answer.headers["content-type"].startswith("text/event-stream"), answer.headers
            lines = _until(time.monotonic() + timeout, answer.iter_lines(chunk_size=None, decode_unicode=True))
            yield _records(sse_messages(lines))


def _records(messages: Iterator[dict]) -> Iterator[tuple[str, dict]]:
    for message in messages:
        assert message.get("event") == "record", message
        yield message["id"], json.loads(message["data"])


def concatenated_json(text: str) -> list[dict]:
    """Every JSON document of a body of concatenated JSON (whitespace, newlines included, between them)."""
    documents, position = [], 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return documents
        document, position = _DECODER.raw_decode(text, position)
        documents.append(document)


def _until(deadline: float, lines: Iterator[str]) -> Iterator[str]:
    for line in lines:
        if time.monotonic() > deadline:
            return
        yield line


def sse_messages(lines: Iterator[str]) -> Iterator[dict]:
    """Server-Sent Events as {field: value} per message; comments (`: keepalive`) are skipped."""
    current: dict[str, str] = {}
    for line in lines:
        if not line:
            if current:
                yield current
            current = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            current[name] = value[1:] if value.startswith(" ") else value
