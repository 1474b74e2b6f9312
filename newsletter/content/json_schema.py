"""JSON Schema for editors' tools, generated from the models in schema.py (`newsletter schema`).

Pydantic writes the schema; two things are adjusted so tools report problems where `check` does: the
block list's `oneOf` + `discriminator` becomes one `if type is X then X's fields` rule per block type
(a validator then names the wrong field, not "matches none of eleven blocks"), and the schema gets
its `$schema`, `$id` and title. The committed files in schema/ are checked against this by a test.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from newsletter.content.schema import Issue, Publication

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMAS: dict[str, type[BaseModel]] = {"issue": Issue, "publication": Publication}
"""The schemas `newsletter schema` writes, by name (schema/<name>.schema.json)."""


def _discriminated(node: dict[str, Any]) -> dict[str, Any] | None:
    """The if/then form of a discriminated union node, or None if `node` is not one."""
    discriminator = node.get("discriminator")
    if not isinstance(discriminator, dict) or "oneOf" not in node:
        return None
    field = discriminator["propertyName"]
    mapping: dict[str, str] = discriminator["mapping"]
    rules = [
        {"if": {"properties": {field: {"const": tag}}, "required": [field]}, "then": {"$ref": ref}}
        for tag, ref in mapping.items()
    ]
    tags = {"enum": list(mapping), "description": "Block type."}
    return {"type": "object", "required": [field], "properties": {field: tags}, "allOf": rules}


def _rewrite(node: Any) -> Any:
    if isinstance(node, dict):
        replaced = _discriminated(node)
        if replaced is not None:
            return replaced
        return {key: _rewrite(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_rewrite(item) for item in node]
    return node


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of the issue file (`issue`) or publication file (`publication`)."""
    model = SCHEMAS[name]
    schema = _rewrite(model.model_json_schema(by_alias=True, mode="validation"))
    header = {"$schema": DRAFT, "$id": f"{name}.schema.json", "title": f"Newsletter {name} file"}
    return {**header, **{k: v for k, v in schema.items() if k != "title"}}


def schema_text(name: str) -> str:
    """The schema as the committed file holds it: sorted keys, two-space indent, final newline."""
    return json.dumps(json_schema(name), indent=2, ensure_ascii=False) + "\n"
