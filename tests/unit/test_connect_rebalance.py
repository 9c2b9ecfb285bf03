"""The Connect client waits out a worker's rebalance, running (409) or expected (500 naming it), for a bounded
time, and sends every other error straight to its caller."""

import json

import pytest
import requests

from onboarding.platform.connect import Connect, ConnectConnection
from onboarding.platform.errors import PlatformError

EXPECTED = (500, "Request cannot be completed because a rebalance is expected")
RUNNING = (409, "Cannot complete request momentarily due to stale configuration (typically caused by a "
                "concurrent config change)")


def answer(status: int, body: dict | None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode() if body is not None else b""
    return response


class Worker:
    """A session whose answers are queued: (status, message) for an error, a dict for a success."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.sent = []

    def request(self, method, url, **kwargs):
        self.sent.append((method, url))
        nxt = self.answers.pop(0)
        if isinstance(nxt, tuple):
            return answer(nxt[0], {"error_code": nxt[0], "message": nxt[1]})
        return answer(200, nxt)

    def close(self):
        pass


def client(worker: Worker, waited: list) -> Connect:
    return Connect(ConnectConnection("http://connect"), session=worker, rebalance_waits=(0.25, 0.5, 1.0),
                   sleep=waited.append)


@pytest.mark.parametrize("refusal", [EXPECTED, RUNNING], ids=["expected", "running"])
def test_a_rebalance_is_waited_out_and_the_request_sent_again(refusal):
    worker, waited = Worker(refusal, refusal, {"name": "payments.sink"}), []

    assert client(worker, waited).put_config("payments.sink", {"tasks.max": "1"}) == {"name": "payments.sink"}

    assert waited == [0.25, 0.5]
    assert worker.sent == [("PUT", "http://connect/connectors/payments.sink/config")] * 3


def test_a_rebalance_that_outlasts_the_waits_reaches_the_caller_as_retryable():
    worker, waited = Worker(*[EXPECTED] * 4), []

    with pytest.raises(PlatformError) as raised:
        client(worker, waited).config("payments.sink")

    assert waited == [0.25, 0.5, 1.0] and len(worker.sent) == 4
    assert raised.value.retryable and raised.value.code == "500" and "rebalance" in str(raised.value)


@pytest.mark.parametrize("refusal", [(500, "java.lang.NullPointerException"), (400, "Connector config is invalid"),
                                     (404, "Connector payments.sink not found")], ids=["500", "400", "404"])
def test_other_errors_are_not_retried_here(refusal):
    worker, waited = Worker(refusal), []

    with pytest.raises(PlatformError) as raised:
        client(worker, waited).put_config("payments.sink", {"tasks.max": "1"})

    assert waited == [] and len(worker.sent) == 1 and raised.value.code == str(refusal[0])
