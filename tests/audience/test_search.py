"""Staff subscriber search: part of an address or name, any case, LIKE characters literal, capped."""

from __future__ import annotations

from sqlalchemy.orm import Session

from newsletter.audience.people.lists import create_list
from newsletter.audience.people.search import like_pattern, search_subscribers
from newsletter.audience.people.subscribers import add_subscriber


def _people(session: Session, *people: tuple[str, str | None]) -> None:
    create_list(session, "e-alert")
    for email, name in people:
        add_subscriber(session, email, "e-alert", name=name)


def test_matches_part_of_the_address_or_the_name_in_any_case(session: Session) -> None:
    _people(
        session,
        ("john.smith@example.org", None),
        ("ann@example.org", "Ann SMITHERS"),
        ("bob@example.org", "Bob Jones"),
    )
    result = search_subscribers(session, "  Smith ")
    assert [m.email for m in result.matches] == ["ann@example.org", "john.smith@example.org"]
    assert (result.total, result.capped) == (2, False)
    assert [m.email for m in search_subscribers(session, "EXAMPLE.ORG").matches] == [
        "ann@example.org",
        "bob@example.org",
        "john.smith@example.org",
    ]


def test_like_wildcards_in_the_query_are_literal(session: Session) -> None:
    _people(
        session,
        ("a_b@example.org", None),
        ("axb@example.org", None),
        ("c@example.org", "100% Carol"),
        ("d@example.org", "100 Dan"),
        ("e@example.org", "back\\slash"),
    )
    assert [m.email for m in search_subscribers(session, "a_b").matches] == ["a_b@example.org"]
    assert [m.email for m in search_subscribers(session, "0%").matches] == ["c@example.org"]
    assert [m.email for m in search_subscribers(session, "k\\s").matches] == ["e@example.org"]
    assert search_subscribers(session, "%").total == 1
    assert search_subscribers(session, "_").total == 1
    assert like_pattern("a%b_c\\") == "%a\\%b\\_c\\\\%"


def test_results_are_capped_with_the_full_count(session: Session) -> None:
    _people(session, *((f"reader{i:03}@example.org", None) for i in range(60)))
    result = search_subscribers(session, "reader")
    assert len(result.matches) == 50
    assert result.matches[0].email == "reader000@example.org"
    assert (result.total, result.capped) == (60, True)
    assert search_subscribers(session, "reader", limit=5).matches[-1].email == "reader004@example.org"


def test_an_empty_query_finds_nobody(session: Session) -> None:
    _people(session, ("ann@example.org", None))
    assert search_subscribers(session, "   ").total == 0
