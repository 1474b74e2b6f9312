"""The committed JSON Schema is the one the models generate, accepts every good issue, and names the
same field as `newsletter check` for a bad one."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from newsletter.content.json_schema import SCHEMAS, json_schema, schema_text
from newsletter.content.load import load_issue
from newsletter.content.yaml_loader import format_loc
from newsletter.errors import ContentError

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
GOOD_ISSUES = sorted([*(ROOT / "issues").glob("*.yaml"), *(FIXTURES / "issues" / "good").glob("*.yaml")])
GOOD_ISSUES += sorted((FIXTURES / "issues" / "lint").glob("*.yaml"))
PUBLICATIONS = sorted([*(ROOT / "publications").glob("*.yaml"), FIXTURES / "publications" / "e-alert.yaml"])
PUBLICATIONS += [FIXTURES / "publications" / "health.yaml", FIXTURES / "publications" / "mojibake.yaml"]
SCHEMA_LEVEL_BAD = [
    "http_link", "javascript_url", "missing_required", "unknown_key_top", "unknown_key_block",
    "unknown_block_type", "wrong_types", "tips_items_mapping",
]  # fmt: skip
"""Bad fixtures whose every problem is about the data (not YAML syntax, files or Markdown; not the
image rule "empty alt only when decorative", which spans two fields and is left to `check`)."""


def _data(path: Path) -> Any:
    """The file as JSON data (dates as text), the way an editor's tool sees it."""
    return json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((ROOT / "schema" / f"{name}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _field(error: jsonschema.ValidationError) -> str:
    """The field an error is about, written as `check` writes it (`blocks[0].url`)."""
    loc = tuple(error.absolute_path)
    if error.validator == "required":
        loc += (re.findall(r"'([^']+)' is a required property", error.message)[0],)
    if error.validator == "additionalProperties":
        loc += (re.findall(r"'([^']+)' was unexpected", error.message)[0],)
    return format_loc(loc)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_committed_schema_matches_the_models(name: str) -> None:
    committed = (ROOT / "schema" / f"{name}.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text(name), f"run: newsletter schema --{name} --out schema/{name}.schema.json"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_field_has_a_description_and_an_example(name: str) -> None:
    schema = json_schema(name)
    models = {**schema["$defs"], "(top)": schema}
    for model_name, model in models.items():
        for field, spec in model.get("properties", {}).items():
            assert spec.get("description"), f"{model_name}.{field} has no description"
            assert spec.get("examples") not in (None, [None]), f"{model_name}.{field} has no example"


def test_every_block_type_is_offered() -> None:
    schema = json_schema("issue")
    blocks = schema["properties"]["blocks"]["items"]
    assert set(blocks["properties"]["type"]["enum"]) == {
        r["if"]["properties"]["type"]["const"] for r in blocks["allOf"]
    }


@pytest.mark.parametrize("path", GOOD_ISSUES, ids=lambda p: p.name)
def test_every_sample_and_good_fixture_is_valid(path: Path) -> None:
    assert list(_validator("issue").iter_errors(_data(path))) == []


@pytest.mark.parametrize("path", PUBLICATIONS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_publication_is_valid(path: Path) -> None:
    assert list(_validator("publication").iter_errors(_data(path))) == []


def test_samples_name_the_schema_for_their_editor() -> None:
    for path in sorted((ROOT / "issues").glob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schema/issue.schema.json", path.name


@pytest.mark.parametrize("case", SCHEMA_LEVEL_BAD)
def test_a_bad_fixture_fails_on_the_field_check_names(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)
    path = Path("issues", "bad", f"{case}.yaml")
    with pytest.raises(ContentError) as caught:
        load_issue(path, Path("publications"))
    checked = {p.field for p in caught.value.problems}
    schema_fields = {_field(e) for e in _validator("issue").iter_errors(_data(path))}
    assert schema_fields == checked
