"""The opt-in JSONata function's module: importing it must not change the process for everything else."""

import subprocess
import sys
from pathlib import Path


def test_importing_jsonata_leaves_the_processs_recursion_limit_as_it_was():
    # jsonata-python raises it to 10,000 at import; the portal's parsers count on the default to refuse input
    # nested too deeply before it overflows the C stack.
    code = ("import sys; before = sys.getrecursionlimit(); import onboarding.mapping.jsonata_expr; "
            "print(before, sys.getrecursionlimit())")
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[3],
                            capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    before, after = result.stdout.split()
    assert after == before
