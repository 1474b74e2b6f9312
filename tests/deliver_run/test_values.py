"""Merge values: each reader's own signed links, made fast yet exactly as the audience stage reads them."""

from __future__ import annotations

import pytest
from conftest import FrozenClock
from support import samples
from support.tokens import unsubscribe_token as link_token

from newsletter.audience.readers.tokens import TokenSigner
from newsletter.deliver.engine.values import LinkMaker
from newsletter.errors import InvalidToken


def test_links_are_the_tokens_the_signer_makes_and_reads(
    signer: TokenSigner, frozen_clock: FrozenClock
) -> None:
    links = LinkMaker(signer, samples.publication(), "2026-11-20-test", ["list-a", "list-b"])

    values = links.values(email="ann@example.org", public_id="pub-ann", name="Ann Lee", attributes={})

    base = "https://northwind-health.example/brief"
    assert values == {
        "first_name": "Ann",
        "last_name": "Lee",
        "name": "Ann Lee",
        "email": "ann@example.org",
        "unsubscribe_url": f"{base}/unsubscribe/{link_token(signer, 'pub-ann', ['list-a', 'list-b'])}",
        "manage_url": f"{base}/preferences/{signer.manage_token('pub-ann')}",
        "view_url": f"{base}/archive/2026-11-20-test",
    }
    token = values["unsubscribe_url"].rsplit("/", 1)[1]
    assert signer.read_unsubscribe(token) == ("pub-ann", ("list-a", "list-b"))
    assert signer.read_manage(values["manage_url"].rsplit("/", 1)[1]) == "pub-ann"


def test_a_link_from_another_key_is_refused(signer: TokenSigner) -> None:
    other = LinkMaker(TokenSigner("another-key"), samples.publication(), "x", ["l"])
    token = other.values(email="a@example.org", public_id="p", name=None, attributes={})["unsubscribe_url"]
    with pytest.raises(InvalidToken, match="damaged or was not made by this newsletter"):
        signer.read_unsubscribe(token.rsplit("/", 1)[1])


def test_names_come_from_attributes_then_the_name_and_test_recipients_get_sample_links(
    signer: TokenSigner,
) -> None:
    links = LinkMaker(signer, samples.publication(), "slug", ["l"])

    named = links.values(email="a@example.org", public_id="p", name="Ann Marie Lee", attributes={})
    attributed = links.values(
        email="a@example.org", public_id="p", name="Ignored", attributes={"first_name": " Annie "}
    )
    sample = links.values(email="editor@example.org", public_id=None, name=None, attributes={})

    assert (named["first_name"], named["last_name"]) == ("Ann", "Marie Lee")
    assert (attributed["first_name"], attributed["last_name"]) == ("Annie", "")
    assert sample["unsubscribe_url"].endswith("/unsubscribe/sample")
    assert sample["email"] == "editor@example.org"
