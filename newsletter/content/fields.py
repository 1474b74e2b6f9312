"""The text an editor wrote in a loaded model, each piece with its data path (for checks that read prose).

`markdown_fields` finds the fields typed `Markdown` in schema.py; `text_fields` every string. Both walk
the validated models, so defaults the editor never wrote (a publication's defaults) are skipped when the
source map has no position for them.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from newsletter.content.schema import MarkdownText
from newsletter.content.yaml_loader import Loc


def _is_markdown(annotation: Any) -> bool:
    if get_origin(annotation) is Annotated:
        args = get_args(annotation)
        return any(isinstance(a, MarkdownText) for a in args[1:]) or _is_markdown(args[0])
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_markdown(a) for a in get_args(annotation))
    return False


def _walk(value: Any, loc: Loc, markdown_only: bool, markdown: bool = False) -> Iterator[tuple[Loc, str]]:
    if isinstance(value, str):
        if markdown or not markdown_only:
            yield loc, value
    elif isinstance(value, BaseModel):
        fields = type(value).model_fields
        for name, info in fields.items():
            key = info.alias or name
            is_md = _is_markdown(info.annotation) or any(isinstance(m, MarkdownText) for m in info.metadata)
            yield from _walk(getattr(value, name), (*loc, key), markdown_only, is_md)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk(item, (*loc, index), markdown_only, markdown)


def markdown_fields(model: BaseModel) -> Iterator[tuple[Loc, str]]:
    """Every Markdown value of a model, with its data path, in document order."""
    return _walk(model, (), markdown_only=True)


def text_fields(model: BaseModel) -> Iterator[tuple[Loc, str]]:
    """Every string value of a model (Markdown or plain), with its data path, in document order."""
    return _walk(model, (), markdown_only=False)
