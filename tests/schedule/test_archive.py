"""The archive's data: sent sends to lists only (no tests, drafts or scheduled ones), each issue once."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from conftest import FrozenClock
from sqlalchemy.orm import Session
from support.samples import publication, rendered

from newsletter import clock
from newsletter.audience.people.lists import create_list
from newsletter.db.tables import Send
from newsletter.errors import NotFound
from newsletter.schedule.archive import archived_html, archived_issues
from newsletter.schedule.sends import create_send, create_test_send


def _send(
    session: Session, slug: str, status: str = "sent", *, test: bool = False, subject: str = ""
) -> Send:
    issue = replace(rendered(subject=subject or f"About {slug}"), slug=slug)
    if test:
        send = create_test_send(
            session, issue, publication(), addresses=["ed@example.org"], transport="outbox"
        )
    else:
        send = create_send(session, issue, publication(), list_names=["e-alert"], transport="outbox")
    send.status = status
    send.finished_at = clock.now() if status == "sent" else None
    session.commit()
    return send


@pytest.fixture
def sends(session: Session, frozen_clock: FrozenClock) -> None:
    """Sent: one, two (twice: an old and a new subject); test-only: three; scheduled: four."""
    create_list(session, "e-alert")
    _send(session, "one")
    frozen_clock.advance(days=1)
    _send(session, "two", subject="Two, first try")
    frozen_clock.advance(days=1)
    _send(session, "three", test=True)
    _send(session, "four", status="scheduled")
    frozen_clock.advance(days=1)
    _send(session, "two", subject="Two, sent again")


@pytest.mark.usefixtures("sends")
def test_lists_sent_issues_newest_first_each_once(session: Session) -> None:
    issues = archived_issues(session)
    assert [(i.slug, i.subject) for i in issues] == [("two", "Two, sent again"), ("one", "About one")]
    assert issues[0].sent_at - issues[1].sent_at == timedelta(days=3)
    assert [i.slug for i in archived_issues(session, limit=1)] == ["two"]


@pytest.mark.usefixtures("sends")
def test_an_issue_page_is_merged_with_neutral_values(session: Session) -> None:
    html = archived_html(session, "two")
    base = publication().web_base_url  # the send's own publication: never the request's host
    assert "Hello Friend," in html
    assert f'href="{base}/unsubscribe/"' in html
    assert f'href="{base}/archive/two"' in html
    assert "{" not in html


@pytest.mark.usefixtures("sends")
@pytest.mark.parametrize("slug", ["three", "four", "nothing"])
def test_tests_unsent_and_unknown_issues_are_not_found(session: Session, slug: str) -> None:
    with pytest.raises(NotFound):
        archived_html(session, slug)


def test_only_issues_sent_to_public_lists_alone_and_not_hidden_are_archived(
    session: Session, frozen_clock: FrozenClock
) -> None:
    create_list(session, "e-alert")
    create_list(session, "members", private=True)
    for slug, lists, hidden in [
        ("public", ["e-alert"], False),
        ("private", ["members"], False),
        ("mixed", ["e-alert", "members"], False),
        ("hidden", ["e-alert"], True),
    ]:
        issue = replace(rendered(subject=f"About {slug}"), slug=slug)
        send = create_send(
            session, issue, publication(), list_names=lists, transport="outbox", hide_from_archive=hidden
        )
        send.status = "sent"
        session.commit()
        frozen_clock.advance(hours=1)
    assert [i.slug for i in archived_issues(session)] == ["public"]
    for slug in ("private", "mixed", "hidden"):
        with pytest.raises(NotFound):
            archived_html(session, slug)
