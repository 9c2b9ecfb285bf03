"""Where the engine's stream thread spends its time: a Java Flight Recorder recording taken while it drains the
backlog, each sample put in the category of the innermost frame that belongs to one."""

import json
import subprocess
from pathlib import Path

# each put in the category of the innermost frame that belongs to one (JSON in a JMESPath call counts as JMESPath).
PROFILE_CATEGORIES = (
    ("org/rocksdb/", "RocksDB"),
    ("io/burt/jmespath/", "JMESPath"),
    ("portal/aggregator/serde/", "engine serde (wire format, schemas)"),
    ("com/fasterxml/jackson/", "Jackson (JSON parse/write)"),
    ("portal/aggregator/", "engine topology (admission, gate, measures)"),
    ("org/apache/kafka/streams/state/", "Kafka Streams state stores (Java side)"),
    ("org/apache/kafka/clients/producer/", "Kafka producer"),
    ("org/apache/kafka/clients/consumer/", "Kafka consumer"),
    ("org/apache/kafka/common/", "Kafka clients common (records, network)"),
    ("org/apache/kafka/streams/", "Kafka Streams runtime"),
)


def profile_start(pid: int):
    subprocess.run(["jcmd", str(pid), "JFR.start", "name=bench", "settings=profile"], capture_output=True,
                   timeout=60, check=True)


def profile_stop(pid: int, path: Path) -> str:
    subprocess.run(["jcmd", str(pid), "JFR.stop", "name=bench", f"filename={path}"], capture_output=True,
                   timeout=120, check=True)
    out = subprocess.run(["jfr", "print", "--json", "--events", "jdk.ExecutionSample,jdk.NativeMethodSample",
                          "--stack-depth", "32", str(path)], capture_output=True, text=True, timeout=300, check=True)
    counts: dict[str, int] = {}
    for event in json.loads(out.stdout)["recording"]["events"]:
        values = event["values"]
        if "StreamThread" not in ((values.get("sampledThread") or {}).get("javaName") or ""):
            continue
        frames = [f["method"]["type"]["name"] for f in (values.get("stackTrace") or {}).get("frames", [])]
        category = next((name for frame in frames for prefix, name in PROFILE_CATEGORIES
                         if frame.startswith(prefix)), "JDK / other")
        # Native samples: only time inside RocksDB is work; the rest is the thread waiting (poll, sockets).
        if event["type"] == "jdk.NativeMethodSample" and category != "RocksDB":
            continue
        counts[category] = counts.get(category, 0) + 1
    total = sum(counts.values()) or 1
    top = sorted(counts.items(), key=lambda item: -item[1])[:7]
    return f"{total} samples: " + ", ".join(f"{name} {n / total:.0%}" for name, n in top)

