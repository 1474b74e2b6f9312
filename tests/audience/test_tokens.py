"""Signed links: each works for its own purpose only, confirm links expire, unsubscribe links never do."""

from __future__ import annotations

import pytest
from conftest import SECRET_KEY, FrozenClock
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from support.tokens import unsubscribe_token as link_token

from newsletter import clock
from newsletter.audience.readers.tokens import TokenSigner, UnsubscribeLink
from newsletter.errors import InvalidToken


def test_tokens_round_trip_public_ids(signer: TokenSigner) -> None:
    assert signer.read_confirm(signer.confirm_token("sub1", "list1")) == ("sub1", "list1")
    assert signer.read_unsubscribe(link_token(signer, "sub1", ["a", "b"])) == ("sub1", ("a", "b"))
    assert signer.read_unsubscribe(link_token(signer, "sub1")) == ("sub1", ())
    assert signer.read_manage(signer.manage_token("sub1")) == "sub1"


def test_tokens_are_url_safe_and_carry_no_integer_ids(signer: TokenSigner) -> None:
    token = link_token(signer, "Xy_-AbC", ["L1"])
    assert all(ch.isalnum() or ch in "-_." for ch in token)


def test_tampered_token_is_refused_with_a_clear_message(signer: TokenSigner) -> None:
    token = link_token(signer, "sub1", ["list1"])
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    with pytest.raises(InvalidToken, match="unsubscribe link is damaged or was not made by this newsletter"):
        signer.read_unsubscribe(tampered)


def test_token_signed_with_another_key_is_refused(signer: TokenSigner) -> None:
    foreign = link_token(TokenSigner("someone-else's-key"), "sub1")
    with pytest.raises(InvalidToken, match="not made by this newsletter"):
        signer.read_unsubscribe(foreign)


@pytest.mark.parametrize(
    ("make", "read", "message"),
    [
        ("unsubscribe_token", "read_confirm", "this is an unsubscribe link, not a confirmation link"),
        ("manage_token", "read_unsubscribe", "this is a preferences link, not an unsubscribe link"),
        ("confirm_token", "read_manage", "this is a confirmation link, not a preferences link"),
    ],
)
def test_token_for_another_purpose_is_refused(
    signer: TokenSigner, make: str, read: str, message: str
) -> None:
    args = ("sub1", "list1") if make == "confirm_token" else ("sub1",)
    token = link_token(signer, *args) if make == "unsubscribe_token" else getattr(signer, make)(*args)
    with pytest.raises(InvalidToken, match=message):
        getattr(signer, read)(token)


def test_confirm_token_expires_after_seven_days(signer: TokenSigner, frozen_clock: FrozenClock) -> None:
    token = signer.confirm_token("sub1", "list1")
    frozen_clock.advance(days=6, hours=23)
    assert signer.read_confirm(token) == ("sub1", "list1")
    frozen_clock.advance(hours=2)
    with pytest.raises(InvalidToken, match="confirmation link has expired"):
        signer.read_confirm(token)


def test_unsubscribe_token_never_expires(signer: TokenSigner, frozen_clock: FrozenClock) -> None:
    token = link_token(signer, "sub1", ["list1"])
    frozen_clock.advance(days=3650)
    assert signer.read_unsubscribe(token) == ("sub1", ("list1",))


def test_manage_token_lasts_a_year(signer: TokenSigner, frozen_clock: FrozenClock) -> None:
    token = signer.manage_token("sub1")
    frozen_clock.advance(days=364)
    assert signer.read_manage(token) == "sub1"
    frozen_clock.advance(days=2)
    with pytest.raises(InvalidToken, match="preferences link has expired"):
        signer.read_manage(token)


def test_bulk_link_tokens_are_the_ones_made_one_at_a_time_and_read_back(
    signer: TokenSigner, frozen_clock: FrozenClock
) -> None:
    people = ["sub1", "Xy_-AbC", 'odd "quoted" id\\']

    pairs = signer.link_tokens(people, ["list-a", "list-b"])

    assert pairs == [(link_token(signer, p, ["list-a", "list-b"]), signer.manage_token(p)) for p in people]
    for person, (unsubscribe, manage) in zip(people, pairs, strict=True):
        assert signer.read_unsubscribe(unsubscribe) == (person, ("list-a", "list-b"))
        assert signer.read_manage(manage) == person
        with pytest.raises(InvalidToken, match="this is a preferences link, not an unsubscribe link"):
            signer.read_unsubscribe(manage)


def test_bulk_link_tokens_tampered_or_from_another_key_are_refused(signer: TokenSigner) -> None:
    ((unsubscribe, manage),) = signer.link_tokens(["sub1"], ["list1"])
    ((foreign, _),) = TokenSigner("another-key").link_tokens(["sub1"], ["list1"])
    _, stamp, signature = unsubscribe.split(".")
    other_payload = signer.link_tokens(["sub2"], ["list1"])[0][0].split(".")[0]

    for bad in (f"{other_payload}.{stamp}.{signature}", unsubscribe[:-3] + "AAA", foreign):
        if bad == unsubscribe:
            continue
        with pytest.raises(InvalidToken, match="damaged or was not made by this newsletter"):
            signer.read_unsubscribe(bad)
    with pytest.raises(InvalidToken, match="preferences link is damaged"):
        signer.read_manage(manage[:-3] + ("AAA" if not manage.endswith("AAA") else "BBB"))


def test_unsubscribe_tokens_carry_their_delivery_in_bulk_and_one_at_a_time(
    signer: TokenSigner, frozen_clock: FrozenClock
) -> None:
    people = ["sub1", "sub2", "sub3"]

    pairs = signer.link_tokens(people, ["list-a"], [41, None, 2**40])

    assert pairs == [
        (link_token(signer, p, ["list-a"], d), signer.manage_token(p))
        for p, d in zip(people, [41, None, 2**40], strict=True)
    ]
    assert [signer.read_unsubscribe_link(u) for u, _ in pairs] == [
        UnsubscribeLink("sub1", ("list-a",), 41),
        UnsubscribeLink("sub2", ("list-a",), None),
        UnsubscribeLink("sub3", ("list-a",), 2**40),
    ]
    assert signer.read_unsubscribe(pairs[0][0]) == ("sub1", ("list-a",))
    with pytest.raises(ValueError, match="one delivery id"):
        signer.link_tokens(people, ["list-a"], [1])


def test_an_unsubscribe_token_made_before_delivery_ids_still_reads_without_one(signer: TokenSigner) -> None:
    serializer = URLSafeTimedSerializer(SECRET_KEY, salt="newsletter.unsubscribe")
    old = str(serializer.dumps({"s": "sub1", "l": ["list-a"]}))  # exactly what the old code signed

    assert signer.read_unsubscribe_link(old) == UnsubscribeLink("sub1", ("list-a",), None)
    assert signer.read_unsubscribe(old) == ("sub1", ("list-a",))


def test_a_delivery_id_cannot_be_forged_or_be_anything_but_an_integer(signer: TokenSigner) -> None:
    ((token, _),) = signer.link_tokens(["sub1"], ["list-a"], [41])
    _, stamp, signature = token.split(".")
    ((other, _),) = signer.link_tokens(["sub1"], ["list-a"], [42])
    with pytest.raises(InvalidToken, match="damaged or was not made by this newsletter"):
        signer.read_unsubscribe_link(f"{other.split('.')[0]}.{stamp}.{signature}")
    serializer = URLSafeTimedSerializer(SECRET_KEY, salt="newsletter.unsubscribe")
    for bad in ("41", True, 4.5):
        signed = str(serializer.dumps({"s": "sub1", "l": [], "d": bad}))
        with pytest.raises(InvalidToken, match="unsubscribe link is damaged"):
            signer.read_unsubscribe_link(signed)


def test_links_mailed_in_the_first_format_keep_working_for_their_purpose_only(
    signer: TokenSigner, frozen_clock: FrozenClock
) -> None:
    class ClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock.now().timestamp())

    def old(purpose: str, payload: dict[str, object]) -> str:  # exactly what version 1 signed
        serializer = URLSafeTimedSerializer(SECRET_KEY, salt=f"newsletter.{purpose}", signer=ClockSigner)
        return str(serializer.dumps(payload))

    unsubscribe = old("unsubscribe", {"s": "sub1", "l": ["list-a"], "d": 41})
    manage = old("manage", {"s": "sub1", "l": []})

    assert signer.read_unsubscribe_link(unsubscribe) == UnsubscribeLink("sub1", ("list-a",), 41)
    assert signer.read_manage(manage) == "sub1"
    with pytest.raises(InvalidToken, match="this is a preferences link, not an unsubscribe link"):
        signer.read_unsubscribe(manage)
    frozen_clock.advance(days=366)
    with pytest.raises(InvalidToken, match="preferences link has expired"):
        signer.read_manage(manage)
    assert signer.read_unsubscribe(unsubscribe) == ("sub1", ("list-a",))


def test_tokens_made_now_carry_their_format_version_and_a_short_keyed_hash(signer: TokenSigner) -> None:
    token = link_token(signer, "sub1", ["list-a"], 41)

    payload, _stamp, signature = token.split(".")
    assert payload.startswith("2eyJ")  # version 2, then the base64 of the JSON payload
    assert len(signature) == 22  # 16 bytes of BLAKE2b, base64 without padding
    assert signer.read_unsubscribe_link(token) == UnsubscribeLink("sub1", ("list-a",), 41)
