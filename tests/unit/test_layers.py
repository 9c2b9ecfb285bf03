"""The house's import contracts hold (pyproject.toml [tool.importlinter]), and they catch a break.

The mutation tests copy the code, add one import that the house forbids, and show that the same
command CI runs reports the contract it breaks.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")], cwd=root,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                          timeout=300)


def test_every_import_contract_is_kept():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture(scope="module")
def code_copy(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("house")
    for package in ("onboarding", "portal"):
        shutil.copytree(REPO / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("onboarding/reconcile/sweep.py", "from onboarding.services import topics", "Control plane layers"),
    ("onboarding/services/topics.py", "from onboarding.changes import requests", "Control plane layers"),
    ("onboarding/models/topics.py", "from onboarding import queue", "Control plane layers"),
    ("onboarding/platform/registry.py", "from onboarding.routing import rules", "platform/ is a leaf"),
    ("onboarding/routing/router.py", "from onboarding.models import Topic", "The data plane reads only"),
    ("onboarding/selectors/topics.py", "import confluent_kafka", "Only the adapters"),
])
def test_an_import_against_the_house_breaks_its_contract(code_copy, module, line, contract):
    path = code_copy / module
    original = path.read_text()
    path.write_text(original + f"\n{line}  # noqa\n")
    try:
        result = lint_imports(code_copy)
    finally:
        path.write_text(original)
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout
