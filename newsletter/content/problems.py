"""Translation of pydantic validation errors into located, editor-friendly ContentProblems."""

from __future__ import annotations

import types
from datetime import date
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from newsletter.content.yaml_loader import Loc, SourceMap, YamlDocument, format_loc
from newsletter.errors import ContentProblem

_TAG = "type"
"""The discriminator field of block unions."""

_FIXED: dict[str, str] = {
    "missing": "required field is missing",
    "string_too_short": "must not be empty",
    "date_type": "must be a date like 2026-11-20",
    "date_parsing": "must be a date like 2026-11-20",
    "date_from_datetime_parsing": "must be a date like 2026-11-20",
    "date_from_datetime_inexact": "must be a date like 2026-11-20, without a time",
}
_GOT_KIND: dict[str, str] = {
    "string_type": "must be text",
    "list_type": "must be a list",
    "model_type": "must be a mapping of key: value lines",
    "model_attributes_type": "must be a mapping of key: value lines",
    "dict_type": "must be a mapping of key: value lines",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
}
_BOUNDS: dict[str, str] = {
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "too_short": "must have at least {min_length} items",
}


def _describe(value: Any) -> str:
    """What an editor wrote, in plain words ("a list", "the number 12", "text 'Dana'")."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"the yes/no value {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, date):
        return f"the date {value}"
    if isinstance(value, str):
        return f"text {value!r}" if len(value) <= 40 else "text"
    return "a list" if isinstance(value, list) else "a mapping"


def _unwrap(tp: Any) -> Any:
    while True:
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
        elif _is_union(tp) and len(members := [a for a in get_args(tp) if a is not type(None)]) == 1:
            tp = members[0]
        else:
            return tp


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _literal(tp: Any) -> tuple[Any, ...]:
    return get_args(tp) if get_origin(tp) is Literal else ()


def _tags(model: type[BaseModel]) -> tuple[Any, ...]:
    info = model.model_fields.get(_TAG)
    return _literal(info.annotation) if info else ()


def _field_type(model: type[BaseModel], key: str | int) -> Any:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info.annotation
    return None


def _step(tp: Any, part: str | int) -> Any:
    if _is_model(tp):
        return _field_type(tp, part)
    if get_origin(tp) is list and isinstance(part, int):
        return get_args(tp)[0]
    return None


def resolve(root: type[BaseModel], pydantic_loc: tuple[str | int, ...]) -> tuple[Loc, Any]:
    """Drop discriminator tags from a pydantic loc; return the data path and the type found there."""
    tp: Any = root
    out: list[str | int] = []
    for part in pydantic_loc:
        tp = _unwrap(tp)
        if _is_union(tp):  # a discriminated union of blocks: this part is the tag
            tp = next((m for m in get_args(tp) if _is_model(m) and part in _tags(m)), None)
            continue
        out.append(part)
        tp = _step(tp, part)
    return tuple(out), _unwrap(tp)


def _keys(model: type[BaseModel]) -> str:
    """The keys a model allows, its own first, then those it shares with other models (e.g. `dir`)."""
    bases = [base for base in model.__bases__ if issubclass(base, BaseModel)]
    inherited = {name for base in bases for name in base.model_fields}
    fields = sorted(model.model_fields.items(), key=lambda item: item[0] in inherited)
    return ", ".join(info.alias or name for name, info in fields if not _literal(info.annotation))


def _union_tags(tp: Any) -> str:
    return ", ".join(tag for m in get_args(tp) if _is_model(m) for tag in _tags(m))


def _message(err: ErrorDetails, root: type[BaseModel], loc: Loc) -> str:
    kind, ctx, value = err["type"], err.get("ctx", {}), err["input"]
    if kind == "extra_forbidden":
        owner = resolve(root, err["loc"][:-1])[1]
        allowed = f" (allowed: {_keys(owner)})" if _is_model(owner) else ""
        return f"unknown key {loc[-1]!r}{allowed}"
    if kind == "missing" and (literal := _literal(resolve(root, err["loc"])[1])):
        return f"required field is missing (write {loc[-1]}: {literal[0]})"
    if kind == "union_tag_invalid":
        expected = _union_tags(resolve(root, err["loc"])[1])
        return f"unknown block type {ctx['tag']!r} (expected one of: {expected})"
    if kind == "union_tag_not_found":
        expected = _union_tags(resolve(root, err["loc"])[1])
        return f"required field is missing (one of: {expected})"
    if kind in _FIXED:
        got = f", got {value!r}" if kind.startswith("date") and isinstance(value, str) else ""
        return _FIXED[kind] + got
    if kind in _GOT_KIND:
        quote = " (put it in quotes)" if kind == "string_type" and _is_plain(value) else ""
        return f"{_GOT_KIND[kind]}, got {_describe(value)}{quote}"
    if kind == "too_short" and ctx.get("min_length") == 1:
        return "must have at least one item"
    if kind in _BOUNDS:
        return _BOUNDS[kind].format(**ctx)
    if kind in ("value_error", "assertion_error"):
        return str(ctx["error"])
    return str(err["msg"])  # pragma: no cover - a pydantic error no model here produces


def _is_plain(value: Any) -> bool:
    return isinstance(value, bool | int | float | date)


def _where(err: ErrorDetails, loc: Loc, source: SourceMap) -> tuple[Loc, tuple[int, int]]:
    kind = err["type"]
    if kind == "extra_forbidden":
        return loc, source.locate_key(loc)
    if kind == "missing":
        return loc, source.locate(loc[:-1])
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return (*loc, _TAG), source.locate((*loc, _TAG) if kind == "union_tag_invalid" else loc)
    return loc, source.locate(loc)


def translate(root: type[BaseModel], exc: ValidationError, doc: YamlDocument) -> list[ContentProblem]:
    """One ContentProblem per pydantic error, skipping values the YAML reader already refused."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = resolve(root, err["loc"])[0]
        if any(loc[: len(refused)] == refused for refused in doc.refused):
            continue
        field, (line, col) = _where(err, loc, doc.source)
        message = _message(err, root, loc)
        problems.append(ContentProblem(doc.source.path, line, col, format_loc(field), message))
    return problems
