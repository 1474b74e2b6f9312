"""docs/architecture.md names every module, only modules that exist, and every migration; module docstrings
say what a module owns in a few lines, without measured figures (those live in the README)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "newsletter"
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
MAX_DOCSTRING_LINES = 8
FIGURE = re.compile(r"\d[\d,.]*\s?(?:ms|µs|%|MB|KB|kB|/s\b|x faster|rows/s)")
LONGER_DOCSTRINGS = {
    "errors.py": "draws the exception tree, as httpx does",
    "audience/csvimport/newcomers.py": "the imports branch's area: trimmed when it merges",
    "deliver/engine/marks.py": "the engine branch rewrites the send loop: trimmed when it merges",
    "deliver/engine/pipeline.py": "the engine branch rewrites the send loop: trimmed when it merges",
    "render/inline.py": "the editor branch's area: trimmed when it merges",
}
"""Modules whose docstring may run longer, each with the reason."""


def _modules() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("db/migrations/versions/"):
            continue
        if path.name == "__init__.py" and _only_a_docstring(path) and relative != "__init__.py":
            continue
        found.append(relative)
    return found


def _only_a_docstring(path: Path) -> bool:
    body = ast.parse(path.read_text(encoding="utf-8")).body
    return all(
        isinstance(node, ast.Expr) or (isinstance(node, ast.ImportFrom) and node.module == "__future__")
        for node in body
    )


def _docstring(module: str) -> str:
    return ast.get_docstring(ast.parse((PACKAGE / module).read_text(encoding="utf-8"))) or ""


MODULES = _modules()


@pytest.mark.parametrize("module", MODULES)
def test_the_architecture_doc_names_every_module(module: str) -> None:
    assert f"`{module}`" in DOC, f"docs/architecture.md does not name `{module}`: add it with what it owns"


def test_every_module_the_doc_names_exists() -> None:
    tops = {path.name for path in PACKAGE.iterdir()}
    named = set(re.findall(r"`([a-z_][a-z_/]*\.py)`", DOC))
    ours = {name for name in named if name.split("/")[0] in tops}
    assert sorted(name for name in ours if not (PACKAGE / name).is_file()) == []


def test_the_doc_names_every_migration() -> None:
    revisions = [path.name[:4] for path in sorted((PACKAGE / "db" / "migrations" / "versions").glob("0*.py"))]
    assert [revision for revision in revisions if revision not in DOC] == []


@pytest.mark.parametrize("module", MODULES)
def test_each_module_says_in_a_few_lines_what_it_owns(module: str) -> None:
    docstring = _docstring(module)
    assert docstring, f"{module} has no docstring saying what it owns"
    lines = [line for line in docstring.splitlines() if line.strip()]
    if module not in LONGER_DOCSTRINGS:
        assert len(lines) <= MAX_DOCSTRING_LINES, f"{module}: {len(lines)} lines; the rest belongs in docs/"
    assert FIGURE.findall(docstring) == [] or module in LONGER_DOCSTRINGS, (
        f"{module}: figures go in the README"
    )
