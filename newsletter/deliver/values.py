"""Each recipient's merge values: name parts, address and signed unsubscribe / manage / view links."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from newsletter.audience.tokens import TokenSigner
from newsletter.content.schema import Publication
from newsletter.render.sample import sample_values


class LinkMaker:
    """Builds the per-recipient links of one send (public URLs carry signed tokens, never row ids)."""

    def __init__(
        self, signer: TokenSigner, publication: Publication, slug: str, list_ids: Sequence[str]
    ) -> None:
        self._signer = signer
        self._publication = publication
        self._slug = slug
        self._list_ids = tuple(list_ids)
        self._base = publication.web_base_url.rstrip("/")

    def values(
        self, *, email: str, public_id: str | None, name: str | None, attributes: dict[str, Any]
    ) -> dict[str, str]:
        """Merge values for one recipient; a test recipient (no subscriber) gets the sample links."""
        if public_id is None:
            return sample_values(self._publication, self._slug, email=email)
        first, last = _name_parts(name, attributes)
        unsubscribe = self._signer.unsubscribe_token(public_id, self._list_ids)
        manage = self._signer.manage_token(public_id)
        return {
            "first_name": first,
            "last_name": last,
            "name": (name or "").strip(),
            "email": email,
            "unsubscribe_url": f"{self._base}/unsubscribe/{unsubscribe}",
            "manage_url": f"{self._base}/preferences/{manage}",
            "view_url": f"{self._base}/archive/{self._slug}",
        }


def _name_parts(name: str | None, attributes: dict[str, Any]) -> tuple[str, str]:
    first = str(attributes.get("first_name") or "").strip()
    last = str(attributes.get("last_name") or "").strip()
    if first or last:
        return first, last
    words = (name or "").split()
    return (words[0], " ".join(words[1:])) if words else ("", "")
