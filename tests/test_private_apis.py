"""No module reaches into SQLAlchemy's private API: statements are reused through its public one."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "newsletter"

PRIVATE_SQLALCHEMY = re.compile(
    r"\._(?:generate_cache_key|cache_key|compiler|compile_w_cache|execute_\w+|clone|copy_internals|"
    r"annotate|annotations|raw_columns|where_criteria|from_obj|execution_options|propagate_attrs|"
    r"compiled_cache|sa_\w+|bind|dialect)\b"
    r"|(?:from|import) sqlalchemy(?:\.\w+)*\._\w+"
    r"|from sqlalchemy(?:\.\w+)* import _\w+"
)


def test_no_module_touches_a_private_sqlalchemy_attribute() -> None:
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if PRIVATE_SQLALCHEMY.search(line)
    ]
    assert found == []


def test_the_check_finds_what_it_looks_for() -> None:
    assert PRIVATE_SQLALCHEMY.search("key = statement._generate_cache_key()")
    assert PRIVATE_SQLALCHEMY.search("from sqlalchemy.sql._typing import _ColumnExpressionArgument")
    assert not PRIVATE_SQLALCHEMY.search("compiled = statement.compile(dialect=dialect)")
