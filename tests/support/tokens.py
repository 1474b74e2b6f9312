"""One reader's unsubscribe token, as the engine signs a batch's links (`TokenSigner.link_tokens`)."""

from __future__ import annotations

from collections.abc import Sequence

from newsletter.audience.readers.tokens import TokenSigner


def unsubscribe_token(
    signer: TokenSigner, subscriber_id: str, list_ids: Sequence[str] = (), delivery_id: int | None = None
) -> str:
    """The token unsubscribing `subscriber_id` from `list_ids` (every list when empty), naming a delivery."""
    return signer.link_tokens([subscriber_id], list_ids, [delivery_id])[0][0]
