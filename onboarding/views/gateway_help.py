"""Ready-to-paste commands for publishing to a topic through the event gateway, shown on the topic's page.

They use the team's token from the environment (``$TEAM_TOKEN``), never a real one: a token is shown once,
when it is made, on the tokens page.
"""

from __future__ import annotations

import json
import shlex


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
