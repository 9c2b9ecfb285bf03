"""Shared fixtures of the mapping tests: the golden corpus of two acquired systems and one canonical schema."""

import json
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"


def golden_text(name: str) -> str:
    return (GOLDEN / name).read_text()


def golden(name: str):
    return json.loads(golden_text(name))
