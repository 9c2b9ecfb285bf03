"""The code base passes ruff (pyflakes, pycodestyle, import order, bugbear, Django checks)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_row_locks_leave_foreign_key_checks_alone():
    """A plain FOR UPDATE also blocks the FOR KEY SHARE that every insert referencing the row takes, so a
    service locking a team while a worker inserts a notification for a topic of that team, which it locked,
    deadlocks. The portal's row locks only guard read-modify-write of non-key columns: FOR NO KEY UPDATE."""
    plain = []
    for path in sorted((REPO / "onboarding").rglob("*.py")) + sorted((REPO / "portal").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "select_for_update(" in line and "no_key=True" not in line:
                plain.append(f"{path.relative_to(REPO)}:{number}")
    assert plain == []
