"""Health-content rules: the study-type vocabulary with evidence levels, and citation formats.

Evidence levels follow the usual hierarchy of evidence for questions of treatment and harm (pooled
studies above single trials, trials above observational studies, observational above case reports,
human studies above laboratory and animal work). Citation checks are format checks: DOIs and PubMed ids
carry no check digit, ISSNs do (ISO 3297: weights 8..2, mod 11, X for 10).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class StudyType:
    """One kind of study: its canonical name, evidence level (1 strongest) and the label readers see."""

    name: str
    level: int
    evidence: str


STUDY_TYPES: tuple[StudyType, ...] = (
    StudyType("meta-analysis", 1, "strongest: pools the results of many studies"),
    StudyType("systematic review", 1, "strongest: weighs every study on the question"),
    StudyType("randomised controlled trial", 2, "strong: a fair test of cause and effect"),
    StudyType("non-randomised controlled trial", 3, "moderate: compared groups, not chosen by chance"),
    StudyType("cohort study", 3, "moderate: follows people over time; shows links, not proof"),
    StudyType("case-control study", 4, "limited: looks back at people with and without a condition"),
    StudyType("cross-sectional study", 4, "limited: a snapshot at one time; shows links, not proof"),
    StudyType("case series", 5, "weak: a few patients, no comparison group"),
    StudyType("case report", 5, "weak: a single patient"),
    StudyType("narrative review", 5, "weak: experts summarise selected studies"),
    StudyType("expert opinion", 5, "weak: the views of experts"),
    StudyType("animal study", 6, "early: in animals; may not apply to people"),
    StudyType("in vitro study", 6, "early: cells in a laboratory; may not apply to people"),
)
"""The controlled vocabulary editors choose `study_type` from."""
LEVELS = 6

_ALIASES = {
    "rct": "randomised controlled trial",
    "randomized controlled trial": "randomised controlled trial",
    "randomised trial": "randomised controlled trial",
    "randomized trial": "randomised controlled trial",
    "non-randomized controlled trial": "non-randomised controlled trial",
    "cohort": "cohort study",
    "prospective cohort study": "cohort study",
    "retrospective cohort study": "cohort study",
    "case-control": "case-control study",
    "case control study": "case-control study",
    "cross-sectional": "cross-sectional study",
    "review": "narrative review",
    "animal": "animal study",
    "in vitro": "in vitro study",
    "laboratory study": "in vitro study",
    "meta analysis": "meta-analysis",
}
_BY_NAME = {t.name: t for t in STUDY_TYPES}

DOI = re.compile(r"^10\.\d{4,9}/[^\s]+$")
"""A DOI as Crossref recommends matching it: 10.<registrant>/<suffix>, no spaces."""
_DOI_PREFIXES = re.compile(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
PMID = re.compile(r"^[1-9][0-9]{0,7}$")
"""A PubMed id: 1 to 8 digits, no leading zero."""
ISSN = re.compile(r"^(\d{4})-(\d{3}[\dX])$")


def study_type(value: str) -> StudyType | None:
    """The vocabulary entry `value` names (any case, British or American spelling), or None."""
    key = " ".join(value.lower().replace("_", " ").split())
    return _BY_NAME.get(_ALIASES.get(key, key))


def doi_problem(value: str) -> str | None:
    """Why `value` is not a bare DOI (None if it is one)."""
    if DOI.match(value):
        return None
    bare = _DOI_PREFIXES.sub("", value.strip())
    if bare != value and DOI.match(bare):
        return f"write the DOI alone, without the prefix: {bare!r}"
    return f"not a DOI (they look like 10.1002/jcsm.13000), got {value!r}"


def pmid_problem(value: str) -> str | None:
    """Why `value` is not a PubMed id (None if it is one)."""
    if PMID.match(value.strip()):
        return None
    return f"not a PubMed id (1 to 8 digits, e.g. 38123456), got {value!r}"


def issn_check_digit(first_seven: str) -> str:
    """The ISSN check character for seven digits (ISO 3297)."""
    total = sum(int(d) * w for d, w in zip(first_seven, range(8, 1, -1), strict=True))
    remainder = (11 - total % 11) % 11
    return "X" if remainder == 10 else str(remainder)


def issn_problem(value: str) -> str | None:
    """Why `value` is not a valid ISSN (None if it is one), including a wrong check digit."""
    match = ISSN.match(value.strip().upper())
    if not match:
        return f"not an ISSN (NNNN-NNNC, e.g. 2190-5991), got {value!r}"
    digits = match.group(1) + match.group(2)
    expected = issn_check_digit(digits[:7])
    if digits[7] != expected:
        return f"ISSN {value!r} has a wrong check digit (expected {expected}): check for a typo"
    return None


def phrase_pattern(phrases: list[str]) -> re.Pattern[str] | None:
    """A case-insensitive whole-word pattern matching any of `phrases` (None for no phrases)."""
    if not phrases:
        return None
    alternatives = sorted({re.escape(p.strip()) for p in phrases if p.strip()}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)
