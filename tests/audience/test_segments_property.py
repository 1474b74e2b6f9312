"""Property: for generated attribute expressions over messy data, the database (SQLite and PostgreSQL)
selects exactly the readers the persona evaluator accepts — so segments and render-time audience
conditions never disagree about a reader.

The readers are generated once per backend (numbers as text and JSON, yes/no words in any case, bad
dates, wrong JSON types, quotes, semicolons and backslashes in text); hypothesis generates the
expressions: comparisons, `in`, `not in`, exists/missing, combined with and / or / not.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from audience.segment_data import SPECIALTIES, STATES, load, make_readers
from newsletter.audience.segments.members import segment_condition
from newsletter.content.load import load_publication
from newsletter.content.segments.check import check_segment
from newsletter.content.segments.persona import persona_matches
from newsletter.db.tables import Subscriber

ROOT = Path(__file__).resolve().parents[2]
PUBLICATION, _ = load_publication(ROOT / "publications/e-alert.yaml")
ROLES = tuple(PUBLICATION.attributes["role"].values)
READERS = make_readers(400, seed=7)


def quoted(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


texts = st.one_of(
    st.sampled_from([s for s in (*SPECIALTIES, *STATES) if s]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=8),
)
numbers = st.one_of(
    st.integers(-5, 2010).map(str),
    st.decimals(min_value=-50, max_value=50, places=1, allow_nan=False, allow_infinity=False).map(
        lambda d: format(d, "f")
    ),
)
dates = st.dates(min_value=date(2025, 11, 1), max_value=date(2026, 7, 1))
ordered = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])


def _in(name: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    word = st.sampled_from(["in", "not in"])
    return st.builds(
        lambda w, vs: f"{name} {w} ({', '.join(vs)})", word, st.lists(values, min_size=1, max_size=3)
    )


leaves = st.one_of(
    st.builds(lambda op, v: f"role {op} {quoted(v)}", st.sampled_from(["=", "!="]), st.sampled_from(ROLES)),
    _in("role", st.sampled_from(ROLES).map(quoted)),
    st.builds(
        lambda k, op, v: f"{k} {op} {quoted(v)}",
        st.sampled_from(["state", "specialty"]),
        st.sampled_from(["=", "!="]),
        texts,
    ),
    _in("state", texts.map(quoted)),
    st.builds(
        lambda k, op, v: f"{k} {op} {v}",
        st.sampled_from(["years_in_practice", "birth_year"]),
        ordered,
        numbers,
    ),
    _in("years_in_practice", numbers),
    st.builds(lambda op, d: f"last_webinar {op} {d.isoformat()}", ordered, dates),
    st.builds(
        lambda op, b: f"sms_alerts {op} {b}", st.sampled_from(["=", "!="]), st.sampled_from(["true", "false"])
    ),
    st.builds(
        lambda f, k: f"{f}({k})",
        st.sampled_from(["exists", "missing"]),
        st.sampled_from(sorted(PUBLICATION.attributes)),
    ),
)
expressions = st.recursive(
    leaves,
    lambda inner: st.one_of(
        inner.map(lambda e: f"not ({e})"),
        st.builds(lambda a, b: f"({a}) and ({b})", inner, inner),
        st.builds(lambda a, b: f"({a}) or ({b})", inner, inner),
    ),
    max_leaves=6,
)


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(expression=expressions)
def test_the_database_and_the_persona_evaluator_select_the_same_readers(
    session: Session, expression: str
) -> None:
    if session.scalar(select(Subscriber.id).limit(1)) is None:
        load(session, READERS)  # once per backend: the examples only read
    segment = check_segment(expression, PUBLICATION.attributes)
    selected = set(session.scalars(select(Subscriber.id).where(segment_condition(session, segment))))
    expected = {r.id for r in READERS if persona_matches(segment, r.attributes)}
    assert selected == expected, (
        f"{expression}: extra {sorted(selected - expected)[:5]}, lost {sorted(expected - selected)[:5]}"
    )
