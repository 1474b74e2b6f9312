"""Each recipient's merge values: name parts, address and signed unsubscribe / manage / view links.

Two signed links per recipient: a batch's are made together by `TokenSigner.link_tokens` (one keyed
BLAKE2b call per link, one timestamp per batch). Each
unsubscribe token names its delivery, so an unsubscribe through it counts in that send's report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from newsletter.audience.readers.tokens import TokenSigner
from newsletter.content.schema import Publication
from newsletter.render.sample import sample_values


class Person(Protocol):
    """What merge values are made from (a claimed delivery row)."""

    @property
    def delivery_id(self) -> int | None: ...
    @property
    def email(self) -> str: ...
    @property
    def public_id(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def first_name(self) -> Any: ...
    @property
    def last_name(self) -> Any: ...


class LinkMaker:
    """Builds the per-recipient links of one send (public URLs carry signed tokens, never row ids)."""

    def __init__(
        self, signer: TokenSigner, publication: Publication, slug: str, list_ids: Sequence[str]
    ) -> None:
        self._signer = signer
        self._publication = publication
        self._slug = slug
        self._list_ids = list(list_ids)
        base = publication.web_base_url.rstrip("/")
        self._unsubscribe_base = f"{base}/unsubscribe/"
        self._manage_base = f"{base}/preferences/"
        self._view_url = f"{base}/archive/{slug}"

    def values(
        self,
        *,
        email: str,
        public_id: str | None,
        name: str | None,
        attributes: dict[str, Any],
        delivery_id: int | None = None,
    ) -> dict[str, str]:
        """Merge values for one recipient; a test recipient (no subscriber) gets the sample links."""
        first, last = attributes.get("first_name"), attributes.get("last_name")
        return self.many([_Recipient(delivery_id, email, public_id, name, first, last)])[0]

    def many(self, people: Sequence[Person]) -> list[dict[str, str]]:
        """Merge values for each of `people`, in order, their links signed as one batch."""
        mailed = [p for p in people if p.public_id is not None]
        signed = iter(
            self._signer.link_tokens(
                [p.public_id for p in mailed if p.public_id is not None],
                self._list_ids,
                [p.delivery_id for p in mailed],
            )
        )
        out = []
        for p in people:
            if p.public_id is None:
                out.append(sample_values(self._publication, self._slug, email=p.email))
            else:
                unsubscribe, manage = next(signed)
                first, last = _name_parts(p.name, p.first_name, p.last_name)
                out.append(self._values(p.email, p.public_id, p.name, first, last, unsubscribe, manage))
        return out

    def _values(
        self,
        email: str,
        public_id: str,
        name: str | None,
        first: str,
        last: str,
        unsubscribe: str,
        manage: str,
    ) -> dict[str, str]:
        return {
            "first_name": first,
            "last_name": last,
            "name": (name or "").strip(),
            "email": email,
            "unsubscribe_url": self._unsubscribe_base + unsubscribe,
            "manage_url": self._manage_base + manage,
            "view_url": self._view_url,
        }


@dataclass(frozen=True)
class _Recipient:
    delivery_id: int | None
    email: str
    public_id: str | None
    name: str | None
    first_name: Any
    last_name: Any


def _name_parts(name: str | None, first_name: Any, last_name: Any) -> tuple[str, str]:
    """(first, last): the subscriber's first_name / last_name attributes, else split from their name."""
    first = str(first_name or "").strip()
    last = str(last_name or "").strip()
    if first or last:
        return first, last
    words = (name or "").split()
    return (words[0], " ".join(words[1:])) if words else ("", "")
