"""Lint findings for a loaded issue: things that load fine but an editor should look at before sending.

Each finding is a located `ContentProblem` naming its check (`subject`, `preheader`, `mojibake`,
`merge-tags`, `images`, `study-link`, `file-name`, and the health checks of health_lint.py). They are
warnings unless the publication lists the check under `checks.blocking`; then they are errors. The
functions are pure, so a pre-send checklist can run them on any loaded issue and reuse the messages.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

from newsletter.content.fields import text_fields
from newsletter.content.health_lint import health_findings
from newsletter.content.load import LoadedIssue
from newsletter.content.merge_tags import EDITOR_TAGS, SYSTEM_TAGS, TAG_PATTERN, miscased
from newsletter.content.schema import ImageBlock, StudyBlock
from newsletter.content.yaml_loader import Loc, SourceMap, format_loc
from newsletter.errors import ContentProblem

if TYPE_CHECKING:
    import ftfy

SUBJECT_MAX = 60
PREHEADER_MAX = 110

_FILE_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-[a-z0-9]+(?:-[a-z0-9]+)*\.yaml$")
_TOKEN = re.compile(r"[^ \t\r\n]+")
_THAI = re.compile(r"[\u0e00-\u0e7f]")
_LONE_THAI = re.compile(r"[A-Za-z][\u0e00-\u0e7f][A-Za-z]")


@lru_cache(maxsize=1)
def _encoding_only() -> ftfy.TextFixerConfig:
    """ftfy restricted to undoing wrong decodings: curly quotes, ligatures and line breaks are left alone.

    ftfy is imported on first use: most issues are ASCII and never need it.
    """
    import ftfy

    return ftfy.TextFixerConfig(
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


def _warn(
    source: SourceMap, loc: Loc, check: str, message: str, needle: str = "", nth: int = 0
) -> ContentProblem:
    line, col = source.locate_text(loc, needle, nth) if needle else source.locate(loc)
    return ContentProblem(source.path, line, col, format_loc(loc), message, check, "warning")


def lone_thai_letter(token: str) -> str | None:
    """The likely original of a word with one Thai letter between Latin ones (`muscles\u0e42it's`).

    That is what is left of a UTF-8 dash or quote read as Windows-874 when its other two bytes had no
    character there: `—` (E2 80 94) keeps only E2, shown as `\u0e42`. Returns the word with an em dash
    in its place, or None when the word does not look like that.
    """
    if len(_THAI.findall(token)) != 1 or not _LONE_THAI.search(token):
        return None
    letter = _THAI.search(token)
    assert letter is not None
    try:
        lead = letter.group(0).encode("cp874")[0]
    except UnicodeError:
        return None
    if lead != 0xE2:  # the lead byte of dashes, curly quotes and the ellipsis (U+2010..U+2026)
        return None
    return token.replace(letter.group(0), "\u2014")


def fix_mojibake(text: str) -> str:
    """`text` with wrongly decoded UTF-8 repaired (ftfy, plus Thai Windows-874 which ftfy lacks)."""
    import ftfy

    fixed = str(ftfy.fix_text(text, _encoding_only()))
    if fixed == text and _THAI.search(text):
        try:
            candidate = text.encode("cp874").decode("utf-8")
        except UnicodeError:
            return text
        return text if _THAI.search(candidate) else candidate
    return fixed


def mojibake(source: SourceMap, strings: list[tuple[Loc, str]]) -> Iterator[ContentProblem]:
    """Words that look wrongly decoded, each with the suggested fix (check `mojibake`)."""
    for loc, text in strings:
        seen: set[str] = set()
        for token in _TOKEN.findall(text):
            if token.isascii() or token in seen:
                continue
            seen.add(token)
            fixed = fix_mojibake(token)
            if fixed != token:
                message = f"looks like mojibake: {token!r} should probably be {fixed!r}"
                yield _warn(source, loc, "mojibake", message, token)
            elif lost := lone_thai_letter(token):
                message = (
                    f"looks like mojibake: {token!r} has a Thai letter between Latin ones, what is left of a "
                    f"dash or quote read in the wrong encoding; probably {lost!r} (or another dash or quote)"
                )
                yield _warn(source, loc, "mojibake", message, token)


def merge_tags(source: SourceMap, strings: list[tuple[Loc, str]]) -> Iterator[ContentProblem]:
    """Unknown, misspelt, wrongly cased or system merge tags in editor text (check `merge-tags`)."""
    known = ", ".join(sorted(EDITOR_TAGS))
    for loc, text in strings:
        for match in TAG_PATTERN.finditer(text):
            name, tag = match.group(1), match.group(0)
            if name in SYSTEM_TAGS:
                message = f"{tag!r} is a link the layout adds for every recipient; remove it here"
                yield _warn(source, loc, "merge-tags", message, tag)
            elif name not in EDITOR_TAGS:
                close = difflib.get_close_matches(name, sorted(EDITOR_TAGS), n=1)
                hint = f", did you mean '{{{close[0]}}}'?" if close else ""
                message = f"unknown merge tag {tag!r}{hint} (known: {known})"
                yield _warn(source, loc, "merge-tags", message, tag)
        for written, lower in miscased(text):
            message = f"{written!r} is not filled in: merge tags are lower case, write {lower!r}"
            yield _warn(source, loc, "merge-tags", message, written)


def _lengths(loaded: LoadedIssue) -> Iterator[ContentProblem]:
    issue, source = loaded.issue, loaded.source
    if len(issue.subject) > SUBJECT_MAX:
        message = f"subject is {len(issue.subject)} characters; inboxes cut it off after about {SUBJECT_MAX}"
        yield _warn(source, ("subject",), "subject", message)
    if not issue.preheader:
        message = "no preheader: inboxes will show the first words of the email instead"
        message += f" (add one of up to {PREHEADER_MAX} characters)"
        yield _warn(source, ("preheader",), "preheader", message)
    elif len(issue.preheader) > PREHEADER_MAX:
        message = f"preheader is {len(issue.preheader)} characters; inboxes show only about {PREHEADER_MAX}"
        yield _warn(source, ("preheader",), "preheader", message)


def _blocks(loaded: LoadedIssue) -> Iterator[ContentProblem]:
    no_width = "image has no width: set width (at most 600) so Outlook shows it at the intended size"
    images: list[tuple[Loc, ImageBlock]] = []
    for index, block in enumerate(loaded.issue.blocks):
        if isinstance(block, ImageBlock):
            images.append((("blocks", index), block))
        if isinstance(block, StudyBlock) and block.url is None:
            message = "study has no url: add a link to the source so readers can check it"
            yield _warn(loaded.source, ("blocks", index), "study-link", message)
    if loaded.issue.promo and loaded.issue.promo.image:
        images.append((("promo", "image"), loaded.issue.promo.image))
    for loc, image in images:
        if image.width is None:
            yield _warn(loaded.source, loc, "images", no_width)


def _file_name(loaded: LoadedIssue) -> Iterator[ContentProblem]:
    issue_date, name = loaded.issue.date, loaded.path.name
    match = _FILE_NAME.match(name)
    if not match:
        slug = re.sub(r"[^a-z0-9]+", "-", loaded.path.stem.lower()).strip("-") or "slug"
        message = f"file name should be YYYY-MM-DD-slug.yaml, e.g. {issue_date}-{slug}.yaml"
        yield _warn(loaded.source, (), "file-name", message)
        return
    try:
        name_date: date | None = date.fromisoformat(match.group(1))
    except ValueError:
        name_date = None
    if name_date != issue_date:
        message = f"issue date {issue_date} does not match the date in the file name ({match.group(1)})"
        yield _warn(loaded.source, ("date",), "file-name", message)


def lint_issue(loaded: LoadedIssue) -> list[ContentProblem]:
    """Every finding of a loaded issue and its publication, sorted by position.

    Warnings, except the findings of checks the publication lists under `checks.blocking`: errors.
    """
    issue_strings = list(text_fields(loaded.issue))
    publication_strings = list(text_fields(loaded.publication))
    findings = [*_lengths(loaded), *_blocks(loaded), *_file_name(loaded)]
    findings += mojibake(loaded.source, issue_strings)
    findings += mojibake(loaded.publication_source, publication_strings)
    findings += merge_tags(loaded.source, issue_strings)
    findings += health_findings(loaded)
    blocking = set(loaded.publication.checks.blocking)
    return sorted(replace(f, severity="error") if f.check in blocking else f for f in findings)
