"""Health-content checks of a loaded issue, configured per publication (`checks:` in its file).

Each finding names its check: `study-type` (the vocabulary in health.py), `citation` (DOI, PubMed id and
ISSN formats), `disclaimer` (every study card has a note at its foot), `claims` (the publication's
flagged phrases, whole words in any case) and `advertising` (a promo carries a label). All are
warnings; lint.py makes those of the publication's `blocking` checks errors.
"""

from __future__ import annotations

from collections.abc import Iterator

from newsletter.content.fields import text_fields
from newsletter.content.health import (
    STUDY_TYPES,
    doi_problem,
    issn_problem,
    phrase_pattern,
    pmid_problem,
    study_type,
)
from newsletter.content.load import LoadedIssue
from newsletter.content.schema import StudyBlock
from newsletter.content.yaml_loader import Loc, SourceMap, format_loc
from newsletter.errors import ContentProblem


def finding(
    source: SourceMap, loc: Loc, check: str, message: str, needle: str = "", occurrence: int = 0
) -> ContentProblem:
    """A warning of `check` at `loc` (at `needle` inside it when given)."""
    line, col = source.locate_text(loc, needle, occurrence) if needle else source.locate(loc)
    return ContentProblem(source.path, line, col, format_loc(loc), message, check, "warning")


def _studies(loaded: LoadedIssue) -> Iterator[tuple[Loc, StudyBlock]]:
    for index, block in enumerate(loaded.issue.blocks):
        if isinstance(block, StudyBlock):
            yield ("blocks", index), block


def study_types(loaded: LoadedIssue) -> Iterator[ContentProblem]:
    """`study_type` values outside the vocabulary."""
    names = ", ".join(t.name for t in STUDY_TYPES)
    for loc, block in _studies(loaded):
        if study_type(block.study_type) is None:
            message = f"study type {block.study_type!r} is not in the vocabulary (use one of: {names})"
            yield finding(loaded.source, (*loc, "study_type"), "study-type", message)


def citations(loaded: LoadedIssue) -> Iterator[ContentProblem]:
    """DOIs, PubMed ids and ISSNs that are not well formed (or whose check digit is wrong)."""
    checks = (("doi", doi_problem), ("pmid", pmid_problem), ("issn", issn_problem))
    for loc, block in _studies(loaded):
        for name, problem_of in checks:
            value = getattr(block, name)
            if value is not None and (problem := problem_of(value)):
                yield finding(loaded.source, (*loc, name), "citation", problem)


def disclaimers(loaded: LoadedIssue) -> Iterator[ContentProblem]:
    """Study cards with no disclaimer at their foot (neither their own nor the publication's)."""
    if loaded.publication.study_disclaimer:
        return
    message = (
        "study card has no disclaimer: add disclaimer: to the block, or study_disclaimer to the "
        "publication (shown at the foot of every card)"
    )
    for loc, block in _studies(loaded):
        if not block.disclaimer:
            yield finding(loaded.source, loc, "disclaimer", message)


def claims(loaded: LoadedIssue) -> Iterator[ContentProblem]:
    """The publication's flagged phrases wherever the issue's text uses them."""
    pattern = phrase_pattern(loaded.publication.checks.flagged_phrases)
    if pattern is None:
        return
    for loc, text in text_fields(loaded.issue):
        for match in pattern.finditer(text):
            word = match.group(0)
            message = (
                f"{word!r} is a flagged claim for {loaded.publication.name}: make sure the evidence "
                "supports it, or rephrase"
            )
            yield finding(loaded.source, loc, "claims", message, word, text.count(word, 0, match.start()))


def advertising(loaded: LoadedIssue) -> Iterator[ContentProblem]:
    """A promo without an advertising label (its own `label` or the publication's `promo_label`)."""
    promo = loaded.issue.promo
    if promo is not None and not (promo.label or loaded.publication.promo_label):
        message = "promo is not labelled as advertising: add label: Advertisement"
        message += " (or promo_label to the publication)"
        yield finding(loaded.source, ("promo",), "advertising", message)


def health_findings(loaded: LoadedIssue) -> list[ContentProblem]:
    """Every health-content warning of an issue."""
    return [
        *study_types(loaded),
        *citations(loaded),
        *disclaimers(loaded),
        *claims(loaded),
        *advertising(loaded),
    ]
