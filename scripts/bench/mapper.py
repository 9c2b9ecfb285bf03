"""Benchmark: a normalization mapping compiled to closures against the same mapping in jq and JSONata, and
against a raw passthrough.

  scripts/dev bench mapper [--events 20000] [--rounds 3]
  (or directly: .venv/bin/python scripts/bench/mapper.py; no service is needed)

One 20-field mapping of a generated HL7-like feed (dates as yyyyMMdd, local sex, marital and patient-class
codes, weights in lb, heights in inches, glucose in mg/dL) into a canonical patient. Every engine gets the
decoded event (a dict) and gives a dict, one event at a time, as the mapper process will call it; the outputs
of the three engines are compared on sample events first, so each measures the same work. Prints events/s of
each (best of the rounds, 1 core) and the ratios. Later, the Kafka mapper process adds its consume-produce loop.
"""

import argparse
import copy
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from onboarding.mapping.compiler import compile_mapping  # noqa: E402
from onboarding.mapping.rules import rules_from_json  # noqa: E402

TABLES = {
    "sex": {"M": "male", "F": "female", "O": "other", "U": "unknown"},
    "marital": {"S": "single", "M": "married", "D": "divorced", "W": "widowed"},
    "patient_class": {"I": "inpatient", "O": "outpatient", "E": "emergency"},
}

RULES = [
    {"target": "patient.id", "sources": ["PID.id"], "fn": "rename"},
    {"target": "patient.mrn", "sources": ["PID.mrn"], "fn": "cast", "args": {"to": "string"}},
    {"target": "patient.name.family", "sources": ["PID.name"], "fn": "split", "args": {"sep": "^", "index": 0}},
    {"target": "patient.name.given", "sources": ["PID.name"], "fn": "split", "args": {"sep": "^", "index": 1}},
    {"target": "patient.name.text", "sources": ["PID.prefix", "PID.display"], "fn": "concat", "args": {"sep": " "}},
    {"target": "patient.birth_date", "sources": ["PID.dob"], "fn": "date_parse",
     "args": {"formats": ["%Y%m%d"], "output": "date"}},
    {"target": "patient.gender", "sources": ["PID.sex"], "fn": "code", "args": {"table": "sex", "default": "unknown"}},
    {"target": "patient.weight_kg", "sources": ["PID.weight_lb"], "fn": "unit",
     "args": {"from": "lb", "to": "kg", "digits": 2}},
    {"target": "patient.height_cm", "sources": ["PID.height_in"], "fn": "unit",
     "args": {"from": "in", "to": "cm", "digits": 1}},
    {"target": "patient.deceased", "sources": ["PID.death_flag"], "fn": "conditional",
     "args": {"equals": "Y", "then": True, "else": False}},
    {"target": "patient.marital_status", "sources": ["PID.marital"], "fn": "code",
     "args": {"table": "marital", "default": "unknown"}},
    {"target": "patient.address.line", "sources": ["PID.addr.street"], "fn": "rename"},
    {"target": "patient.address.city", "sources": ["PID.addr.city"], "fn": "rename"},
    {"target": "patient.address.postal_code", "sources": ["PID.addr.zip"], "fn": "cast", "args": {"to": "string"}},
    {"target": "patient.address.country", "sources": ["PID.addr.country"], "fn": "default", "args": {"value": "US"}},
    {"target": "encounter.admitted_at", "sources": ["PV1.admit"], "fn": "date_parse",
     "args": {"formats": ["%Y%m%d%H%M"], "output": "epoch_ms"}},
    {"target": "encounter.ward", "sources": ["PV1.ward"], "fn": "rename"},
    {"target": "encounter.class", "sources": ["PV1.class"], "fn": "code", "args": {"table": "patient_class"}},
    {"target": "lab.glucose_mmol_l", "sources": ["OBX.glucose"], "fn": "unit",
     "args": {"from": "mg/dL", "to": "mmol/L", "digits": 1}},
    {"target": "meta.source_system", "sources": [], "fn": "constant", "args": {"value": "lab-a"}},
]

JQ = r"""
def code($t; $d): . as $v | ($t[$v] // $d);
{patient: {id: .PID.id, mrn: (.PID.mrn | tostring),
           name: {family: (.PID.name | split("^")[0]), given: (.PID.name | split("^")[1]),
                  text: ([.PID.prefix, .PID.display] | map(select(. != null and . != "")) | join(" "))},
           birth_date: (.PID.dob | strptime("%Y%m%d") | strftime("%Y-%m-%d")),
           gender: (.PID.sex | code({"M":"male","F":"female","O":"other","U":"unknown"}; "unknown")),
           weight_kg: (.PID.weight_lb * 0.45359237 * 100 | round / 100),
           height_cm: (.PID.height_in * 2.54 * 10 | round / 10),
           deceased: (.PID.death_flag == "Y"),
           marital_status: (.PID.marital | code({"S":"single","M":"married","D":"divorced","W":"widowed"}; "unknown")),
           address: {line: .PID.addr.street, city: .PID.addr.city, postal_code: (.PID.addr.zip | tostring),
                     country: (.PID.addr.country // "US")}},
 encounter: {admitted_at: (.PV1.admit | strptime("%Y%m%d%H%M") | mktime * 1000), ward: .PV1.ward,
             class: {"I":"inpatient","O":"outpatient","E":"emergency"}[.PV1.class]},
 lab: {glucose_mmol_l: (.OBX.glucose / 18.0156 * 10 | round / 10)},
 meta: {source_system: "lab-a"}}
"""

JSONATA = """(
  $sex := {"M": "male", "F": "female", "O": "other", "U": "unknown"};
  $marital := {"S": "single", "M": "married", "D": "divorced", "W": "widowed"};
  $class := {"I": "inpatient", "O": "outpatient", "E": "emergency"};
  $code := function($t, $v, $d) { ($x := $lookup($t, $v); $exists($x) ? $x : $d) };
  {
    "patient": {
      "id": PID.id, "mrn": $string(PID.mrn),
      "name": {"family": $split(PID.name, "^")[0], "given": $split(PID.name, "^")[1],
               "text": $join([PID.prefix, PID.display][$ != ""], " ")},
      "birth_date": $fromMillis($toMillis(PID.dob, "[Y0001][M01][D01]"), "[Y0001]-[M01]-[D01]"),
      "gender": $code($sex, PID.sex, "unknown"),
      "weight_kg": $round(PID.weight_lb * 0.45359237, 2),
      "height_cm": $round(PID.height_in * 2.54, 1),
      "deceased": PID.death_flag = "Y",
      "marital_status": $code($marital, PID.marital, "unknown"),
      "address": {"line": PID.addr.street, "city": PID.addr.city, "postal_code": $string(PID.addr.zip),
                  "country": $exists(PID.addr.country) ? PID.addr.country : "US"}
    },
    "encounter": {"admitted_at": $toMillis(PV1.admit, "[Y0001][M01][D01][H01][m01]"), "ward": PV1.ward,
                  "class": $lookup($class, PV1.class)},
    "lab": {"glucose_mmol_l": $round(OBX.glucose / 18.0156, 1)},
    "meta": {"source_system": "lab-a"}
  }
)"""


def events(n: int, seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        family, given = rnd.choice(["DOE", "ROE", "SMITH", "NGUYEN"]), rnd.choice(["JOHN", "JANE", "ALEX", "SAM"])
        out.append({
            "MSH": {"sending_app": "LAB-A", "control_id": f"MSG{i:08d}", "version": "2.5"},
            "PID": {"id": f"A-{i:07d}", "mrn": 100000 + i, "name": f"{family}^{given}",
                    "prefix": rnd.choice(["Mr", "Ms"]), "display": f"{given.title()} {family.title()}",
                    "dob": f"{rnd.randint(1930, 2020)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}",
                    "sex": rnd.choice("MFOU"), "weight_lb": round(rnd.uniform(90, 300), 1),
                    "height_in": round(rnd.uniform(55, 80), 1), "death_flag": rnd.choice("NNNNY"),
                    "marital": rnd.choice("SMDW"),
                    "addr": {"street": f"{rnd.randint(1, 999)} Main St", "city": "Springfield",
                             "zip": rnd.randint(10000, 99999), "country": rnd.choice(["US", "CA"])}},
            "PV1": {"admit": f"2024{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}{rnd.randint(0, 23):02d}"
                             f"{rnd.randint(0, 59):02d}",
                    "ward": rnd.choice(["ICU", "MED", "SURG"]), "class": rnd.choice("IOE")},
            "OBX": {"glucose": rnd.randint(60, 250)},
        })
    return out


def rate(fn, batch: list[dict], rounds: int) -> float:
    """Events per second of ``fn`` over ``batch``: the best round, so other load on the machine counts least."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for event in batch:
            fn(event)
        best = min(best, time.perf_counter() - started)
    return len(batch) / best


def same(a, b) -> bool:
    """Equal outputs, numbers to within the last rounded digit: Python's round() works on the binary float
    (67.5 in * 2.54 = 171.4499... -> 171.4), jq and JSONata round the scaled value half up (171.5)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(a - b) <= 0.1 + 1e-9
    return a == b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    batch = events(args.events)
    compiled = compile_mapping(rules_from_json(RULES), TABLES)
    engines = {"compiled rules": compiled, "passthrough (dict copy)": dict,
               "passthrough (deep copy)": copy.deepcopy}
    try:
        import jq
        program = jq.compile(JQ)
        engines["jq"] = lambda e: program.input_value(e).first()
    except ImportError:
        print("jq: not installed (pip install jq), left out")
    try:
        from jsonata import Jsonata
        expression = Jsonata(JSONATA)
        engines["jsonata-python"] = expression.evaluate
    except ImportError:
        print("jsonata-python: not installed, left out")

    for name in ("jq", "jsonata-python"):  # the same work, or the comparison means nothing
        if name in engines:
            for event in batch[:200]:
                if not same(compiled(event), engines[name](event)):
                    sys.exit(f"{name} gives another output for {event}:\n{engines[name](event)}\n{compiled(event)}")

    print(f"{len(RULES)}-field mapping, {len(batch)} events, best of {args.rounds} rounds, one process")
    results = {}
    for name, fn in engines.items():
        # the slow engines get a slice of the batch, enough for a stable rate in seconds rather than minutes
        size = len(batch) if name in ("compiled rules",) or name.startswith("passthrough") else len(batch) // 10
        results[name] = rate(fn, batch[:size], args.rounds)
        print(f"  {name:26s} {results[name]:>12,.0f} events/s")
    base = results["compiled rules"]
    print("ratios:")
    for name, value in results.items():
        if name != "compiled rules":
            print(f"  compiled rules / {name:26s} {base / value:8.2f}x")
    latencies = []
    for event in batch[:5000]:
        started = time.perf_counter_ns()
        compiled(event)
        latencies.append(time.perf_counter_ns() - started)
    cuts = statistics.quantiles(latencies, n=100)
    print(f"compiled rules per event: p50 {cuts[49] / 1000:.1f} µs, p99 {cuts[98] / 1000:.1f} µs")


if __name__ == "__main__":
    main()
