"""Typed models of the issue file and the publication file (docs/issue-format.md).

Every field carries a description and an example: `newsletter schema` turns these models into the
JSON Schema editors' tools read (content/json_schema.py), so what VS Code suggests is what loads.
The blocks live in blocks.py, the publication in publication.py, the field types in fieldtypes.py;
all are importable from here.
"""

from __future__ import annotations

import datetime as dt

from newsletter.content.blocks import (
    BLOCK_TYPES,
    SHARE_NETWORKS,
    Action,
    Block,
    BlockBase,
    ButtonBlock,
    DividerBlock,
    FaqBlock,
    FaqItem,
    HeadingBlock,
    HeadlineBlock,
    ImageBlock,
    Network,
    QuoteBlock,
    ShareBlock,
    SmsAction,
    StudyBlock,
    TextBlock,
    Tip,
    TipsBlock,
)
from newsletter.content.fieldtypes import (
    MARKDOWN,
    Direction,
    HttpsUrl,
    LinkUrl,
    Markdown,
    MarkdownText,
    Model,
    NonEmpty,
    Phone,
    described,
)
from newsletter.content.publication import (
    ATTRIBUTE_TYPES,
    CHECK_NAMES,
    AttributeName,
    AttributeSpec,
    Brand,
    CheckName,
    Checks,
    Colors,
    LegalSection,
    Logo,
    Publication,
    Sender,
    SendGridOptions,
)

__all__ = [
    "ATTRIBUTE_TYPES",
    "BLOCK_TYPES",
    "CHECK_NAMES",
    "MARKDOWN",
    "SHARE_NETWORKS",
    "Action",
    "AttributeName",
    "AttributeSpec",
    "Author",
    "Block",
    "BlockBase",
    "Brand",
    "ButtonBlock",
    "CheckName",
    "Checks",
    "Colors",
    "Direction",
    "DividerBlock",
    "FaqBlock",
    "FaqItem",
    "HeadingBlock",
    "HeadlineBlock",
    "HttpsUrl",
    "ImageBlock",
    "Issue",
    "LegalSection",
    "LinkUrl",
    "Logo",
    "Markdown",
    "MarkdownText",
    "Model",
    "Network",
    "NonEmpty",
    "Phone",
    "PostScript",
    "Promo",
    "PromoButton",
    "Publication",
    "QuoteBlock",
    "SendGridOptions",
    "Sender",
    "ShareBlock",
    "Signoff",
    "SmsAction",
    "StudyBlock",
    "TextBlock",
    "Tip",
    "TipsBlock",
]


class Author(Model):
    """A person credited on the issue."""

    name: NonEmpty = described("Their name.", "Dana Whitfield")
    title: str | None = described("Their title.", "Editorial Director", default=None)


class Signoff(Model):
    """The closing lines: closing phrase, name, title and an optional note."""

    closing: NonEmpty = described("The closing phrase.", "To your strength,")
    name: NonEmpty = described("Who signs.", "Dana Whitfield")
    title: str | None = described("Their title.", "Editorial Director, e-Alert", default=None)
    note: str | None = described("A line under the name.", "with help from our research team", default=None)


class PostScript(Model):
    """One P.S. line (the second becomes P.P.S., and so on), optionally linked."""

    text: Markdown = described(
        "The line (Markdown).", "A common vitamin may help aging muscles.", min_length=1
    )
    url: LinkUrl | None = described(
        "Makes the whole line a link.", "https://example.org/vitamin-d", default=None
    )


class PromoButton(Action):
    """The promo's call to action: a link, a number to text, or a number to call."""

    text: NonEmpty = described("The button's words.", "Send me the free guide")


class Promo(Model):
    """An optional offer after the P.S., labelled as advertising."""

    label: str | None = described(
        "The advertising label above it; defaults to the publication's promo_label.",
        "Advertisement",
        default=None,
    )
    headline: NonEmpty = described("The offer's title.", "Get our free guide")
    text: Markdown | None = described(
        "What is offered (Markdown).", "Text **GUIDE** and we send your copy.", default=None
    )
    image: ImageBlock | None = described(
        "An image (an image block, with type: image).",
        {
            "type": "image",
            "src": "https://cdn.example.org/guide.jpg",
            "alt": "The guide's cover",
            "width": 300,
        },
        default=None,
    )
    button: PromoButton | None = described(
        "The call to action.", {"text": "Send me the guide", "url": "https://example.org/guide"}, default=None
    )
    fine_print: Markdown | None = described(
        "Small type under the button: consent and terms (Markdown).",
        "By texting us you agree to receive recurring automated texts. Msg & data rates may apply.",
        default=None,
    )


class Issue(Model):
    """One issue of a publication: subject, preheader, date and the blocks in order."""

    publication: NonEmpty = described("Which publications/<name>.yaml to use.", "e-alert", default="e-alert")
    subject: NonEmpty = described(
        "The email subject (lint: over 60 characters).", "The hidden reason muscles weaken as we age"
    )
    preheader: str | None = described(
        "Inbox preview text (lint: missing or over 110 characters).",
        "Scientists traced it to a broken link.",
        default=None,
    )
    date: dt.date = described("Issue date, matching the file name.", "2026-11-20")
    dir: Direction = described(
        "Writing direction of the whole issue (rtl for Arabic or Hebrew).", "ltr", default="ltr"
    )
    authors: list[Author] = described("People credited.", [{"name": "Dana Whitfield"}], default_factory=list)
    tags: list[str] = described("Topic words.", ["muscle", "aging"], default_factory=list)
    blocks: list[Block] = described(
        "The body, top to bottom.", [{"type": "headline", "text": "A new clue"}], min_length=1
    )
    signoff: Signoff = described(
        "The closing lines.", {"closing": "To your strength,", "name": "Dana Whitfield"}
    )
    ps: list[PostScript] = described(
        "P.S. lines: P.S., then P.P.S., ...", [{"text": "More in our archive."}], default_factory=list
    )
    promo: Promo | None = described(
        "An offer after the P.S.",
        {
            "headline": "Get our free guide",
            "button": {"text": "Send me the guide", "url": "https://example.org/guide"},
        },
        default=None,
    )
