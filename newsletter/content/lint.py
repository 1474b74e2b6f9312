"""Lint warnings for a loaded issue: things that load fine but an editor should look at before sending."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import ftfy

from newsletter.content.load import LoadedIssue
from newsletter.content.merge_tags import EDITOR_TAGS, SYSTEM_TAGS, TAG_PATTERN
from newsletter.content.schema import ImageBlock, StudyBlock
from newsletter.content.yaml_loader import Loc, SourceMap, format_loc
from newsletter.errors import ContentProblem

SUBJECT_MAX = 60
PREHEADER_MAX = 110

_FILE_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-[a-z0-9]+(?:-[a-z0-9]+)*\.yaml$")
_TOKEN = re.compile(r"[^ \t\r\n]+")
_THAI = re.compile(r"[\u0e00-\u0e7f]")
_ENCODING_ONLY = ftfy.TextFixerConfig(
    unescape_html=False,
    remove_terminal_escapes=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    fix_surrogates=False,
    remove_control_chars=False,
    normalization=None,
    explain=False,
)
"""ftfy restricted to undoing wrong decodings: curly quotes, ligatures and line breaks are left alone."""


def _warn(source: SourceMap, loc: Loc, message: str) -> ContentProblem:
    line, col = source.locate(loc)
    return ContentProblem(source.path, line, col, format_loc(loc), message)


def _strings(value: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*loc, index))


def fix_mojibake(text: str) -> str:
    """`text` with wrongly decoded UTF-8 repaired (ftfy, plus Thai Windows-874 which ftfy lacks)."""
    fixed = str(ftfy.fix_text(text, _ENCODING_ONLY))
    if fixed == text and _THAI.search(text):
        try:
            candidate = text.encode("cp874").decode("utf-8")
        except UnicodeError:
            return text
        return text if _THAI.search(candidate) else candidate
    return fixed


def _mojibake(source: SourceMap, strings: list[tuple[Loc, str]]) -> Iterator[ContentProblem]:
    for loc, text in strings:
        seen: set[str] = set()
        for token in _TOKEN.findall(text):
            if token.isascii() or token in seen:
                continue
            seen.add(token)
            fixed = fix_mojibake(token)
            if fixed != token:
                message = f"looks like mojibake: {token!r} should probably be {fixed!r}"
                yield _warn(source, loc, message)


def _merge_tags(source: SourceMap, strings: list[tuple[Loc, str]]) -> Iterator[ContentProblem]:
    known = ", ".join(sorted(EDITOR_TAGS))
    for loc, text in strings:
        for match in TAG_PATTERN.finditer(text):
            name, tag = match.group(1), match.group(0)
            if name in SYSTEM_TAGS:
                message = f"{tag!r} is a link the layout adds for every recipient; remove it here"
                yield _warn(source, loc, message)
            elif name not in EDITOR_TAGS:
                close = difflib.get_close_matches(name, sorted(EDITOR_TAGS), n=1)
                hint = f", did you mean '{{{close[0]}}}'?" if close else ""
                yield _warn(source, loc, f"unknown merge tag {tag!r}{hint} (known: {known})")


def _lengths(loaded: LoadedIssue) -> Iterator[ContentProblem]:
    issue, source = loaded.issue, loaded.source
    if len(issue.subject) > SUBJECT_MAX:
        message = f"subject is {len(issue.subject)} characters; inboxes cut it off after about {SUBJECT_MAX}"
        yield _warn(source, ("subject",), message)
    if not issue.preheader:
        message = "no preheader: inboxes will show the first words of the email instead"
        message += f" (add one of up to {PREHEADER_MAX} characters)"
        yield _warn(source, ("preheader",), message)
    elif len(issue.preheader) > PREHEADER_MAX:
        message = f"preheader is {len(issue.preheader)} characters; inboxes show only about {PREHEADER_MAX}"
        yield _warn(source, ("preheader",), message)


def _blocks(loaded: LoadedIssue) -> Iterator[ContentProblem]:
    no_width = "image has no width: set width (at most 600) so Outlook shows it at the intended size"
    images: list[tuple[Loc, ImageBlock]] = []
    for index, block in enumerate(loaded.issue.blocks):
        if isinstance(block, ImageBlock):
            images.append((("blocks", index), block))
        if isinstance(block, StudyBlock) and block.url is None:
            message = "study has no url: add a link to the source so readers can check it"
            yield _warn(loaded.source, ("blocks", index), message)
    if loaded.issue.promo and loaded.issue.promo.image:
        images.append((("promo", "image"), loaded.issue.promo.image))
    for loc, image in images:
        if image.width is None:
            yield _warn(loaded.source, loc, no_width)


def _file_name(loaded: LoadedIssue) -> Iterator[ContentProblem]:
    issue_date, name = loaded.issue.date, loaded.path.name
    match = _FILE_NAME.match(name)
    if not match:
        slug = re.sub(r"[^a-z0-9]+", "-", loaded.path.stem.lower()).strip("-") or "slug"
        message = f"file name should be YYYY-MM-DD-slug.yaml, e.g. {issue_date}-{slug}.yaml"
        yield _warn(loaded.source, (), message)
        return
    try:
        name_date: date | None = date.fromisoformat(match.group(1))
    except ValueError:
        name_date = None
    if name_date != issue_date:
        message = f"issue date {issue_date} does not match the date in the file name ({match.group(1)})"
        yield _warn(loaded.source, ("date",), message)


def lint_issue(loaded: LoadedIssue) -> list[ContentProblem]:
    """Warnings (never errors) for a loaded issue and its publication, sorted by position."""
    issue_strings = list(_strings(loaded.issue.model_dump(by_alias=True), ()))
    publication_strings = list(_strings(loaded.publication.model_dump(by_alias=True), ()))
    warnings = [*_lengths(loaded), *_blocks(loaded), *_file_name(loaded)]
    warnings += _mojibake(loaded.source, issue_strings)
    warnings += _mojibake(loaded.publication_source, publication_strings)
    warnings += _merge_tags(loaded.source, issue_strings)
    return sorted(warnings)
