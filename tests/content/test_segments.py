"""The segment language without a database: parsing, located errors, type checks, persona evaluation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from newsletter.content.load import load_publication
from newsletter.content.segments.check import check_segment
from newsletter.content.segments.checked import (
    Attribute,
    Compare,
    Conjunction,
    Engaged,
    Field,
    InList,
    ListName,
    Negation,
    OneOf,
    Present,
    Subscribed,
)
from newsletter.content.segments.parse import MAX_DEPTH, MAX_LENGTH, Where
from newsletter.content.segments.persona import persona_matches
from newsletter.errors import ContentError, SegmentError

ROOT = Path(__file__).resolve().parents[2]
ATTRIBUTES = load_publication(ROOT / "publications/e-alert.yaml")[0].attributes


def problems(text: str, **options: object) -> list[str]:
    with pytest.raises(SegmentError) as caught:
        check_segment(text, ATTRIBUTES, **options)  # type: ignore[arg-type]
    return [str(problem) for problem in caught.value.problems]


def test_the_issue_examples_check() -> None:
    segment = check_segment('role = "clinician" and state in ("NY", "NJ")', ATTRIBUTES)
    assert segment.condition == Conjunction(
        (
            Compare(Attribute("role", "enum"), "=", "clinician"),
            OneOf(Attribute("state", "string"), ("NY", "NJ"), negated=False),
        )
    )
    assert not segment.needs_database
    assert check_segment("opened_within(90d)", ATTRIBUTES).condition == Engaged("open", 90)
    assert check_segment("not clicked_within(26w)", ATTRIBUTES).condition == Negation(Engaged("click", 182))
    assert check_segment("subscribed_before(2026-01-01)", ATTRIBUTES).condition == Subscribed(
        "before", date(2026, 1, 1), None
    )
    assert check_segment('in_list("e-alert")', ATTRIBUTES).needs_database


def test_keywords_and_names_ignore_case_quoted_text_does_not() -> None:
    segment = check_segment(
        'ROLE = "clinician" AND NOT Opened_Within(1W) Or attr.State In ("ny")', ATTRIBUTES
    )
    text = str(segment.condition)
    assert "Attribute(name='role'" in text
    assert "Engaged(kind='open', days=7)" in text
    assert "values=('ny',)" in text  # the value keeps its case


def test_numbers_dates_booleans_and_fields_are_typed() -> None:
    assert check_segment("years_in_practice >= 10.5", ATTRIBUTES).condition == Compare(
        Attribute("years_in_practice", "number"), ">=", Decimal("10.5")
    )
    assert check_segment("last_webinar < 2026-06-01", ATTRIBUTES).condition == Compare(
        Attribute("last_webinar", "date"), "<", date(2026, 6, 1)
    )
    assert check_segment("sms_alerts == false", ATTRIBUTES).condition == Compare(
        Attribute("sms_alerts", "boolean"), "=", False
    )
    assert check_segment("created >= 2026-01-01", ATTRIBUTES).condition == Compare(
        Field("created", "timestamp"), ">=", date(2026, 1, 1)
    )
    assert check_segment("missing(specialty)", ATTRIBUTES).condition == Negation(
        Present(Attribute("specialty", "string"))
    )
    assert check_segment('in_list("e-alert", "weekly")', ATTRIBUTES).condition == InList(
        (ListName("e-alert", 1, 9), ListName("weekly", 1, 20))
    )


def test_quoted_text_takes_either_quote_and_escapes() -> None:
    condition = check_segment(
        r"""specialty = 'O\'Brien "clinic"' or state = "a\\b\"c" """, ATTRIBUTES
    ).condition
    assert condition.operands[0].value == 'O\'Brien "clinic"'  # type: ignore[union-attr]
    assert condition.operands[1].value == 'a\\b"c'  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('rol = "clinician"', "segment:1:1: unknown attribute 'rol' (did you mean 'role'?)"),
        (
            'role = "clinician" and stat = "NY"',
            "segment:1:24: unknown attribute 'stat' (did you mean 'state'?)",
        ),
        (
            'role = "clinican"',
            "segment:1:8: 'clinican' is not a value of role (clinician, patient, caregiver,"
            " researcher) (did you mean 'clinician'?)",
        ),
        (
            'role < "clinician"',
            "segment:1:6: role is one of a set of values: compare it with =, != or in, not <",
        ),
        (
            'years_in_practice = "10"',
            'segment:1:21: years_in_practice is a number: compare it with a number such as 10, not "10"',
        ),
        (
            "last_webinar > 90d",
            "segment:1:16: last_webinar is a date: compare it with a date such as 2026-01-31, not 90d",
        ),
        ("sms_alerts in (true)", "segment:1:1: sms_alerts is true or false: 'in' does not apply"),
        (
            'state = ""',
            "segment:1:9: empty text never matches; to find readers without state, write missing(state)",
        ),
        ("created > 2026-02-30", "segment:1:11: there is no date 2026-02-30"),
        ("opened_within(2026-01-01)", "segment:1:1: opened_within takes one duration: opened_within(90d)"),
        ("opened_within()", "segment:1:1: opened_within takes one duration: opened_within(90d)"),
        ('in_list("")', 'segment:1:1: in_list needs non-empty text: in_list("e-alert")'),
        ("in_list(e_alert)", 'segment:1:1: in_list takes one or more quoted texts: in_list("e-alert")'),
        ('exists("role")', "segment:1:1: exists takes one attribute name: exists(specialty)"),
        ("opend_within(9d)", "segment:1:1: unknown function 'opend_within' (did you mean 'opened_within'?)"),
        ("a.b = 1", "segment:1:1: unknown name 'a.b': only attr.NAME has a dot (an attribute)"),
        ("opened_within(36501d)", "segment:1:15: a duration may be at most 36500 days"),
        ("birth_year > 1234567890123456", "segment:1:14: a number may have at most 15 digits"),
        (r'state = "N\Y"', r"segment:1:9: unknown escape \Y in quoted text (write \\ for a backslash)"),
        (
            'state = "N\x00Y"',
            "segment:1:9: quoted text may not hold control characters (write \\n for a new line)",
        ),
    ],
)
def test_bad_expressions_give_one_located_line_each(text: str, message: str) -> None:
    assert problems(text) == [message]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "segment:1:1: the expression is empty"),
        (
            'role = "clinician" and',
            "segment:1:23: the expression ends too early; expected '(', 'not' or a name",
        ),
        (
            "role =",
            "segment:1:7: the expression ends too early; expected a value (quoted text, a number, a date,"
            " a duration, true or false)",
        ),
        (
            'role "clinician"',
            "segment:1:6: unexpected '\"clinician\"'; expected '(', '.', 'in', 'not' or a"
            " comparison (=, !=, <, <=, >, >=)",
        ),
        ('role = "clinician"; DROP TABLE subscribers', "segment:1:19: unexpected character ';'"),
        ('role = "clinician" -- comment', "segment:1:20: unexpected character '-'"),
        ('state = "NY', "segment:1:9: this text has no closing quote (on the same line)"),
        ("(role = 1", "segment:1:10: the expression ends too early; expected ')'"),
        (
            "state in ()",
            "segment:1:11: unexpected ')'; expected a value (quoted text, a number, a date, a duration,"
            " true or false)",
        ),
        ("opened_within(90days)", "segment:1:18: unexpected 'ays'; expected ')' or ','"),
    ],
)
def test_syntax_errors_are_located(text: str, message: str) -> None:
    assert problems(text) == [message]


def test_every_problem_is_reported_at_once_and_is_a_content_error() -> None:
    with pytest.raises(ContentError) as caught:  # shells already print content errors one per line
        check_segment('rol = "x" or years_in_practice = "ten" or foo(1)', ATTRIBUTES)
    assert [(p.line, p.col) for p in caught.value.problems] == [(1, 1), (1, 34), (1, 43)]


def test_positions_follow_lines_and_an_origin_in_a_file() -> None:
    assert problems('role = "clinician"\n  and rol = "x"') == [
        "segment:2:7: unknown attribute 'rol' (did you mean 'role'?)"
    ]
    where = Where("issues/2026-12-04-x.yaml", line=12, col=15)
    assert problems('rol = "x"', where=where) == [
        "issues/2026-12-04-x.yaml:12:15: unknown attribute 'rol' (did you mean 'role'?)"
    ]


def test_sizes_are_bounded() -> None:
    assert problems("x" * (MAX_LENGTH + 1)) == [
        f"segment:1:1: the expression is longer than {MAX_LENGTH} characters"
    ]
    deep = "not " * (MAX_DEPTH + 1) + "exists(role)"
    assert problems(deep) == [f"segment:1:1: the expression nests more than {MAX_DEPTH} levels deep"]
    assert check_segment("not " * (MAX_DEPTH - 1) + "exists(role)", ATTRIBUTES)


def test_a_publication_without_attributes_says_so() -> None:
    with pytest.raises(SegmentError) as caught:
        check_segment('role = "x"', {})
    assert (
        str(caught.value) == "segment:1:1: unknown attribute 'role' (the publication declares no attributes)"
    )


def test_an_attribute_named_like_a_field_is_reached_with_attr() -> None:
    attributes = {**ATTRIBUTES, "status": ATTRIBUTES["state"]}
    assert check_segment('status = "enabled"', attributes).condition == Compare(
        Field("status", "enum"), "=", "enabled"
    )
    assert check_segment('attr.status = "gold"', attributes).condition == Compare(
        Attribute("status", "string"), "=", "gold"
    )


def test_persona_conditions_may_use_only_attributes() -> None:
    assert problems('in_list("e-alert")', persona=True) == [
        "segment:1:1: in_list() needs the database; an audience condition can use only attributes"
    ]
    assert problems('email = "a@b.org"', persona=True) == [
        "segment:1:1: 'email' is a subscriber field; an audience condition can use only attributes"
    ]
    assert check_segment("exists(role) and not missing(state)", ATTRIBUTES, persona=True)


@pytest.mark.parametrize(
    ("text", "persona", "expected"),
    [
        ('role = "clinician"', {"role": "clinician"}, True),
        ('role = "clinician"', {"role": "Clinician"}, False),
        ('role = "clinician"', {}, False),
        ('not role = "clinician"', {}, True),  # a condition on a missing value is false; not makes it true
        ('role != "clinician"', {}, False),
        ('role != "clinician"', {"role": "patient"}, True),
        ('state not in ("NY", "NJ")', {"state": "CA"}, True),
        ('state not in ("NY", "NJ")', {}, False),
        ("years_in_practice >= 10", {"years_in_practice": "12"}, True),
        ("years_in_practice >= 10", {"years_in_practice": 12}, True),
        ("years_in_practice >= 10", {"years_in_practice": "12 years"}, False),
        ("years_in_practice >= 10", {"years_in_practice": "1e3"}, False),
        ("years_in_practice = 3.5", {"years_in_practice": "3.50"}, True),
        ("exists(years_in_practice)", {"years_in_practice": "ten"}, False),
        ("missing(years_in_practice)", {"years_in_practice": ""}, True),
        ("sms_alerts = true", {"sms_alerts": "YES"}, True),
        ("sms_alerts = true", {"sms_alerts": True}, True),
        ("sms_alerts = false", {"sms_alerts": "0"}, True),
        ("sms_alerts = true", {"sms_alerts": "maybe"}, False),
        ("sms_alerts != true", {"sms_alerts": "maybe"}, False),
        ("last_webinar >= 2026-06-01", {"last_webinar": "2026-06-15"}, True),
        ("last_webinar >= 2026-06-01", {"last_webinar": "June 15"}, False),
        ('role = "clinician" and (years_in_practice > 20 or missing(state))', {"role": "clinician"}, True),
    ],
)
def test_a_persona_is_judged_by_the_rules_the_database_follows(
    text: str, persona: dict[str, object], expected: bool
) -> None:
    assert persona_matches(check_segment(text, ATTRIBUTES, persona=True), persona) is expected


def test_a_persona_cannot_judge_what_needs_the_database() -> None:
    segment = check_segment("opened_within(30d)", ATTRIBUTES)
    with pytest.raises(ValueError, match="needs the database"):
        persona_matches(segment, {"role": "clinician"})
