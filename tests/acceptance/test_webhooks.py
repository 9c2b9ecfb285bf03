"""A team's webhook receives a real event from the worker, signed so that the receiver can verify it alone."""

import hashlib
import hmac
import json

from tests.acceptance.http import wait_for


def test_a_webhook_delivery_carries_a_signature_the_receiver_can_verify(as_user, run, webhook_receiver):
    # Loopback receivers are allowed in development only: the runserver instance's own settings.
    alice = as_user("alice", "runserver")
    hook = alice.created("webhooks/", {"team": "payments", "name": f"{run}-ci", "url": webhook_receiver.url,
                                       "events": ["change_request.created"]})
    secret = hook["secret"]
    try:
        # A topic on the gated prod cluster opens a change request: the event the webhook listens for.
        held = alice.post("topics/", {"cluster": "local-prod", "team": "payments", "name": f"payments.{run}-hooked"})
        assert held.status_code == 202, held.text
        change = held.json()

        request = wait_for(lambda: next((r for r in webhook_receiver.requests
                                         if r.headers.get("X-Portal-Event") == "change_request.created"
                                         and json.loads(r.body)["data"]["change_request"]["id"] == change["id"]), None),
                           timeout=60, message="the change_request.created delivery")
        timestamp, body = request.headers["X-Portal-Timestamp"], request.body
        expected = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
        assert hmac.compare_digest(request.headers["X-Portal-Signature"], f"sha256={expected}")
        event = json.loads(body)
        assert (event["team"], event["event"]) == ("payments", "change_request.created")
        assert event["data"]["change_request"]["operations"] == ["topic.create"]

        delivery = wait_for(lambda: next((d for d in alice.ok(f"webhooks/{hook['id']}/deliveries/")
                                          if str(d["id"]) == request.headers["X-Portal-Delivery"]
                                          and d["status"] == "delivered"), None),
                            timeout=30, message="the delivery to be logged as delivered")
        assert delivery["event"] == "change_request.created"
    finally:
        # Later change requests of payments must not be sent to a receiver that is gone.
        as_user("alice").delete(f"webhooks/{hook['id']}/")
