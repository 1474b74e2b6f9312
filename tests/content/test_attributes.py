"""A publication declares the subscriber attributes segments may use, each with a type."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.content.load import load_publication
from newsletter.errors import ContentError

ROOT = Path(__file__).resolve().parents[2]


def with_attributes(tmp_path: Path, block: str) -> Path:
    source = (ROOT / "tests/fixtures/publications/e-alert.yaml").read_text(encoding="utf-8")
    path = tmp_path / "pub.yaml"
    path.write_text(source + "attributes:\n" + block, encoding="utf-8")
    return path


def test_the_e_alert_publication_declares_typed_attributes() -> None:
    publication, _ = load_publication(ROOT / "publications/e-alert.yaml")
    kinds = {name: spec.type for name, spec in publication.attributes.items()}
    assert kinds["role"] == "enum"
    assert publication.attributes["role"].values == ["clinician", "patient", "caregiver", "researcher"]
    assert kinds["state"] == kinds["specialty"] == kinds["timezone"] == "string"
    assert {"number", "date", "boolean"} <= set(kinds.values())


def test_a_type_alone_is_shorthand_for_a_mapping(tmp_path: Path) -> None:
    publication, _ = load_publication(with_attributes(tmp_path, "  age: number\n  state: {type: string}\n"))
    assert publication.attributes["age"].type == "number"
    assert publication.attributes["state"].type == "string"


def test_without_a_declaration_a_publication_has_no_attributes(tmp_path: Path) -> None:
    publication, _ = load_publication(ROOT / "tests/fixtures/publications/e-alert.yaml")
    assert publication.attributes == {}


def test_bad_declarations_are_located(tmp_path: Path) -> None:
    path = with_attributes(
        tmp_path,
        "  role: {type: enum}\n"
        "  Signup-Source: string\n"
        "  age: integer\n"
        "  state: {type: string, values: [NY]}\n",
    )
    with pytest.raises(ContentError) as caught:
        load_publication(path)
    first = path.read_text(encoding="utf-8").splitlines().index("attributes:") + 2  # the first declaration
    messages = [(p.line - first, p.field, p.message) for p in caught.value.problems]
    assert messages[0] == (0, "attributes.role", "an enum needs its values: {type: enum, values: [a, b]}")
    assert messages[1][:2] == (1, "attributes.Signup-Source.[key]")
    assert "must be lower-case letters, digits and _" in messages[1][2]
    assert messages[2][:2] == (2, "attributes.age.type")
    assert messages[3] == (3, "attributes.state", "only an enum lists values; this attribute is a string")
