"""Ready-to-paste commands for publishing to a topic through the event gateway, shown on the topic's page:
curl for its REST API, grpcurl for its gRPC API (the server has reflection on, so no .proto file is needed).

They use the team's token from the environment (``$TEAM_TOKEN``), never a real one: a token is shown once,
when it is made, on the tokens page.
"""

from __future__ import annotations

import json
import shlex
from urllib.parse import urlsplit

GRPC_SERVICE = "portal.gateway.v1.EventGateway"
GRPC_GROUP = "grpcurl-reader"  # the consume commands' group; the gateway puts it under the team's prefix
GRPC_CREDITS = 5  # events the consume command asks for; the call ends once it has them


def publish_commands(*, topic: str, team: str, gateway_url: str) -> dict[str, str]:
    base = gateway_url.rstrip("/")
    record = json.dumps({"key": {"type": "STRING", "data": f"{team}-1"}, "value": {"type": "JSON",
                                                                                    "data": {"id": 1}}})
    auth = '-H "Authorization: Bearer $TEAM_TOKEN"'
    discover = f"CLUSTER=$(curl -s {auth} {shlex.quote(base + '/v3/clusters')} | jq -r '.data[0].cluster_id')"
    publish = (f"curl -s -X POST {auth} -H 'Content-Type: application/json' \\\n"
               f"  \"{base}/v3/clusters/$CLUSTER/topics/{topic}/records\" \\\n  -d {shlex.quote(record)}")
    batch = json.dumps({"entries": [{"id": "1", "value": {"type": "JSON", "data": {"id": 1}}},
                                    {"id": "2", "value": {"type": "JSON", "data": {"id": 2}}}]})
    publish_batch = (f"curl -s -X POST {auth} -H 'Content-Type: application/json' \\\n"
                     f"  \"{base}/v3/clusters/$CLUSTER/topics/{topic}/records:batch\" \\\n  -d {shlex.quote(batch)}")
    return {"discover": discover, "publish": publish, "batch": publish_batch}


def grpc_commands(*, topic: str, team: str, grpc_url: str) -> dict[str, str]:
    """grpcurl commands: publish one event, consume the next few (each with its cursor), acknowledge a cursor.

    ``grpc_url`` is ``grpc://host:port`` (plaintext) or ``grpcs://host:port`` (TLS).
    """
    parts = urlsplit(grpc_url)
    address = parts.netloc or grpc_url
    tls = "" if parts.scheme == "grpcs" else "-plaintext "
    call = f'grpcurl {tls}-H "authorization: Bearer $TEAM_TOKEN"'
    record = json.dumps({"topic": topic, "records": [{"key": {"string": f"{team}-1"},
                                                      "value": {"json": json.dumps({"id": 1})}}]})
    publish = f"{call} \\\n  -d {shlex.quote(record)} \\\n  {address} {GRPC_SERVICE}/Publish"
    opening = {"topic": topic, "group": GRPC_GROUP}
    consume = (f"{call} \\\n  -d {shlex.quote(json.dumps({'open': opening, 'credits': GRPC_CREDITS}))} \\\n"
               f"  {address} {GRPC_SERVICE}/Consume")
    # Double quotes, so the shell puts the cursor in: the JSON's own quotes are escaped.
    ack = json.dumps({"open": opening, "ack": "$CURSOR"}).replace('"', '\\"')
    acknowledge = f'{call} \\\n  -d "{ack}" \\\n  {address} {GRPC_SERVICE}/Consume'
    return {"grpc_publish": publish, "grpc_consume": consume, "grpc_ack": acknowledge,
            "grpc_credits": str(GRPC_CREDITS)}
