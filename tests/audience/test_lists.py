"""Lists: created once per name, found by name or public id, counted by active members."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from newsletter.audience.people.lists import create_list, get_list, get_list_by_public_id, list_summaries
from newsletter.audience.people.subscribers import add_subscriber, unsubscribe_address
from newsletter.db.tables import MailingList
from newsletter.errors import AudienceError, NotFound


def test_create_list_with_options(session: Session) -> None:
    created = create_list(session, " Weekly ", double_opt_in=True, private=True, description="Digest")
    assert (created.name, created.opt_in, created.visibility, created.description) == (
        "Weekly",
        "double",
        "private",
        "Digest",
    )
    assert len(created.public_id) >= 20
    assert not created.public_id.isdigit()


def test_list_names_are_unique_whatever_the_case(session: Session, e_alert: MailingList) -> None:
    with pytest.raises(AudienceError, match="a list named 'e-alert' already exists"):
        create_list(session, "E-Alert")


def test_empty_list_name_is_refused(session: Session) -> None:
    with pytest.raises(AudienceError, match="1 to 100 characters"):
        create_list(session, "  ")


def test_get_list_by_name_and_public_id(session: Session, e_alert: MailingList) -> None:
    assert get_list(session, "E-ALERT").id == e_alert.id
    assert get_list_by_public_id(session, e_alert.public_id).id == e_alert.id


def test_unknown_list_names_the_lists_that_exist(session: Session, e_alert: MailingList) -> None:
    with pytest.raises(NotFound, match="no list named 'daily'; lists: e-alert"):
        get_list(session, "daily")
    with pytest.raises(NotFound):
        get_list_by_public_id(session, "nope")


def test_summaries_count_active_members_only(
    session: Session, e_alert: MailingList, weekly: MailingList
) -> None:
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        add_subscriber(session, email, "e-alert")
    unsubscribe_address(session, "c@example.com", "e-alert")
    summaries = {s.name: s for s in list_summaries(session)}
    assert summaries["e-alert"].active == 2
    assert summaries["weekly"].active == 0
    assert summaries["weekly"].opt_in == "double"
