"""The blocks of an issue's body, one model per `type:` (docs/issue-format.md), and the button targets."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, model_validator

from newsletter.content.fieldtypes import (
    Direction,
    HttpsUrl,
    LinkUrl,
    Markdown,
    Model,
    NonEmpty,
    Phone,
    described,
)


class BlockBase(Model):
    """What every block has besides its own fields: an optional writing direction."""

    dir: Direction | None = described(
        "Writing direction of this block (rtl for Arabic or Hebrew); defaults to the issue's.",
        "rtl",
        default=None,
    )


class HeadlineBlock(BlockBase):
    """The story's main title (h1)."""

    type: Literal["headline"] = described("Block type.", "headline")
    text: NonEmpty = described("The title.", "Why do our muscles fade with age? A new clue")


class TextBlock(BlockBase):
    """Markdown paragraphs: **bold**, _italic_, [links](https://...), lists, > quotes, ### headings, ---."""

    type: Literal["text"] = described("Block type.", "text")
    body: Markdown = described(
        "Markdown: **bold**, _italic_, [links](https://...), lists, > quotes, ###/#### headings, --- rules.",
        "Dear {first_name|Friend},\n\nNobody is surprised when the years start to show.",
        min_length=1,
    )


class HeadingBlock(BlockBase):
    """A section heading (h2) inside the story."""

    type: Literal["heading"] = described("Block type.", "heading")
    text: NonEmpty = described("The heading.", "What the researchers saw")


class Tip(Model):
    """One item of a tips list: a bold lead and its explanation."""

    lead: NonEmpty = described("The bold opening words.", "Keep moving")
    text: Markdown = described(
        "The explanation (Markdown).", "Strength work twice a week protects muscle.", min_length=1
    )


class TipsBlock(BlockBase):
    """A titled list of practical tips."""

    type: Literal["tips"] = described("Block type.", "tips")
    title: str | None = described("Title of the box.", "Four ways to protect your muscles", default=None)
    intro: Markdown | None = described(
        "A line before the tips (Markdown).", "These habits already help:", default=None
    )
    items: list[Tip] = described(
        "The tips, at least one.", [{"lead": "Keep moving", "text": "Walk daily."}], min_length=1
    )


class StudyBlock(BlockBase):
    """A research-study card: journal, study type with its evidence level, population, summary, citation."""

    type: Literal["study"] = described("Block type.", "study")
    title: NonEmpty = described("What the study found, in a line.", "A muscle protein that upsets balance")
    journal: NonEmpty = described("Where it was published.", "Journal of Cachexia, Sarcopenia and Muscle")
    study_type: NonEmpty = described(
        "Kind of study, from the vocabulary in docs/issue-format.md (its evidence level is shown).",
        "randomised controlled trial",
        "cohort study",
        "animal study",
    )
    population: NonEmpty = described("Who or what was studied.", "1,200 adults over 65", "Mice")
    published: dt.date | None = described("Publication date.", "2026-10-02", default=None)
    why_it_matters: Markdown | None = described(
        "Why readers should care (Markdown).", "It may explain falls.", default=None
    )
    summary: Markdown = described(
        "What was done and found (Markdown).", "The team compared young and old mice.", min_length=1
    )
    url: HttpsUrl | None = described(
        "Link to the study (lint: missing).", "https://doi.org/10.1002/jcsm.13000", default=None
    )
    doi: str | None = described(
        "The study's DOI, e.g. 10.1002/jcsm.13000 (lint: format).", "10.1002/jcsm.13000", default=None
    )
    pmid: str | None = described(
        "The study's PubMed id, 1 to 8 digits (lint: format).", "38123456", default=None
    )
    issn: str | None = described(
        "The journal's ISSN, NNNN-NNNC (lint: check digit).", "2190-5991", default=None
    )
    disclaimer: Markdown | None = described(
        "A note shown at the foot of this card; replaces the publication's study_disclaimer.",
        "One study in mice: it does not show the same happens in people.",
        default=None,
    )


class QuoteBlock(BlockBase):
    """A pull quote, usually from an expert, with attribution."""

    type: Literal["quote"] = described("Block type.", "quote")
    text: NonEmpty = described("The quote.", "Sarcopenia is about more than weak muscles.")
    by: str | None = described("Who said it.", "Dr. Miriam Caldwell", default=None)
    role: str | None = described("Their role.", "geriatric physician", default=None)


class FaqItem(Model):
    """One question and its Markdown answer."""

    q: NonEmpty = described("The question.", "What links muscle loss and falls?")
    a: Markdown = described(
        "The answer (Markdown).", "Weak muscles make it harder to recover a stumble.", min_length=1
    )


class FaqBlock(BlockBase):
    """Questions and answers, optionally preceded by a table of contents with anchors."""

    type: Literal["faq"] = described("Block type.", "faq")
    title: str = described("The section title.", "FAQ", default="FAQ")
    toc: bool = described("Add a linked table of contents before the questions.", True, default=False)
    items: list[FaqItem] = described(
        "The questions, at least one.", [{"q": "Why?", "a": "Because."}], min_length=1
    )


class ImageBlock(BlockBase):
    """An image; alt text is required unless the image is marked decorative."""

    type: Literal["image"] = described("Block type.", "image")
    src: HttpsUrl = described("The image's https:// address.", "https://cdn.example.org/img/walk.jpg")
    alt: str = described(
        "What the image shows, for readers who cannot see it.", "Older adult lifting a light weight"
    )
    decorative: bool = described("A purely decorative image (alt text may be empty).", False, default=False)
    width: int | None = described(
        "Width in pixels, at most 600 (lint: missing).", 560, default=None, gt=0, le=600
    )
    height: int | None = described(
        "Height in pixels (keeps space while images load).", 320, default=None, gt=0
    )
    link: LinkUrl | None = described(
        "Where a tap on the image goes.", "https://example.org/story", default=None
    )
    caption: str | None = described("A line under the image.", "Balance drills, done safely.", default=None)

    @model_validator(mode="after")
    def _alt_required(self) -> ImageBlock:
        if not self.alt.strip() and not self.decorative:
            raise ValueError("alt text is required (use decorative: true for a purely decorative image)")
        return self


class SmsAction(Model):
    """Text a keyword to a number (`sms:` link): the button opens the phone's messages app."""

    number: Phone = described("The number to text.", "(410) 555-0147", "+14105550147")
    keyword: str | None = described("The word to send, filled in for the reader.", "GUIDE", default=None)


class Action(Model):
    """Where a button goes: exactly one of url, sms or tel."""

    url: LinkUrl | None = described("A page or email link.", "https://example.org/ask", default=None)
    sms: SmsAction | None = described(
        "Text a keyword to a number.", {"number": "(410) 555-0147", "keyword": "GUIDE"}, default=None
    )
    tel: Phone | None = described("A number to call.", "1-800-555-0134", default=None)

    @model_validator(mode="after")
    def _one_target(self) -> Action:
        chosen = [name for name in ("url", "sms", "tel") if getattr(self, name) is not None]
        if len(chosen) != 1:
            got = f"got {', '.join(chosen)}" if chosen else "got none"
            raise ValueError(f"a button needs exactly one of url, sms or tel ({got})")
        return self


class ButtonBlock(BlockBase, Action):
    """A call-to-action button (a link, a number to text or to call), with an optional line above it."""

    type: Literal["button"] = described("Block type.", "button")
    text: NonEmpty = described("The button's words.", "Ask the doctor")
    intro: Markdown | None = described(
        "A line above the button (Markdown).", "Wondering what this means for you?", default=None
    )


class DividerBlock(BlockBase):
    """A horizontal rule between sections."""

    type: Literal["divider"] = described("Block type.", "divider")


SHARE_NETWORKS = ("email", "facebook", "x", "linkedin", "whatsapp")
Network = Literal["email", "facebook", "x", "linkedin", "whatsapp"]


class ShareBlock(BlockBase):
    """A row of share links to the issue's archive page."""

    type: Literal["share"] = described("Block type.", "share")
    text: NonEmpty = described(
        "The words before the links.", "Have thoughts on this? Share it:", default="Share this issue:"
    )
    networks: list[Network] = described(
        "Which share links, in order.",
        ["email", "facebook", "x", "linkedin"],
        default_factory=lambda: ["email", "facebook", "x", "linkedin"],
        min_length=1,
    )


Block = Annotated[
    HeadlineBlock
    | TextBlock
    | HeadingBlock
    | TipsBlock
    | StudyBlock
    | QuoteBlock
    | FaqBlock
    | ImageBlock
    | ButtonBlock
    | DividerBlock
    | ShareBlock,
    Field(discriminator="type"),
]
BLOCK_TYPES: tuple[str, ...] = (
    "headline", "text", "heading", "tips", "study", "quote", "faq", "image", "button", "divider", "share",
)  # fmt: skip
