"""The import contracts hold the house up: a shell importing a transport or a table breaks `lint-imports`.

`scripts/check` runs the contracts on the real tree; here they run on a copy with one forbidden import
added, to prove the contracts would catch it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

FORBIDDEN = {
    "cli/sneaky_transport.py": "from newsletter.deliver.transports.smtp import SmtpTransport\n",
    "web/sneaky_table.py": "from newsletter.db.tables import Send\n",
    "worker_helpers_sneaky.py": "",  # a top-level module with no place in the layers
}


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def broken_copy(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """lint-imports over a copy of the package with the FORBIDDEN modules added."""
    if not LINT_IMPORTS.exists():
        pytest.skip(f"lint-imports is not installed beside {sys.executable} (run scripts/bootstrap)")
    tree = tmp_path_factory.mktemp("house")
    shutil.copytree(ROOT / "newsletter", tree / "newsletter", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    for name, source in FORBIDDEN.items():
        (tree / "newsletter" / name).write_text(source, encoding="utf-8")
    return _lint_imports(tree)


def test_a_shell_importing_a_transport_breaks_the_contract(
    broken_copy: subprocess.CompletedProcess[str],
) -> None:
    assert broken_copy.returncode != 0
    assert "newsletter.cli is not allowed to import newsletter.deliver.transports" in broken_copy.stdout
    assert "newsletter.cli.sneaky_transport -> newsletter.deliver.transports.smtp" in broken_copy.stdout


def test_a_shell_importing_a_table_breaks_the_contract(broken_copy: subprocess.CompletedProcess[str]) -> None:
    assert "newsletter.web.sneaky_table -> newsletter.db.tables" in broken_copy.stdout


def test_a_top_level_module_without_a_layer_breaks_the_contract(
    broken_copy: subprocess.CompletedProcess[str],
) -> None:
    assert "newsletter.worker_helpers_sneaky" in broken_copy.stdout
