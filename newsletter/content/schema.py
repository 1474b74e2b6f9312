"""Typed models of the issue file and the publication file (docs/issue-format.md).

Every field carries a description and an example: `newsletter schema` turns these models into the
JSON Schema editors' tools read (content/json_schema.py), so what VS Code suggests is what loads.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from newsletter.content.urls import CLICK, WEB, check_url, phone_problem

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_HTTPS_PATTERN = r"^\s*[hH][tT][tT][pP][sS]://[^/\s]"
_LINK_PATTERN = r"^\s*([hH][tT][tT][pP][sS]://[^/\s]|[mM][aA][iI][lL][tT][oO]:|[tT][eE][lL]:|[sS][mM][sS]:)"


class MarkdownText:
    """Marks a field as editor Markdown: checked by content/markdown_rules.py, rendered safely."""


MARKDOWN = MarkdownText()

HttpsUrl = Annotated[
    str, AfterValidator(lambda v: check_url(v, WEB)), Field(json_schema_extra={"pattern": _HTTPS_PATTERN})
]
"""An absolute https:// URL (images, web pages)."""
LinkUrl = Annotated[
    str, AfterValidator(lambda v: check_url(v, CLICK)), Field(json_schema_extra={"pattern": _LINK_PATTERN})
]
"""A link a reader taps: https://, mailto:, tel: or sms:."""
Markdown = Annotated[str, MARKDOWN]
"""Markdown source; checked at load time and rendered through the safe renderer, never as raw HTML."""
NonEmpty = Annotated[str, Field(min_length=1)]
Direction = Literal["ltr", "rtl"]


def _phone(value: str) -> str:
    problem = phone_problem(value.strip(), written=True)
    if problem:
        raise ValueError(problem)
    return value.strip()


Phone = Annotated[str, AfterValidator(_phone)]
"""A number to call or text: digits with optional +, -, ., ( and )."""


def _doc(description: str, *examples: Any, **extra: Any) -> Any:
    """Field metadata: what the field is, with examples, for the JSON Schema."""
    return Field(description=description, examples=list(examples) or None, **extra)


class Model(BaseModel):
    """Base for content models: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


# ---------------------------------------------------------------- blocks


class BlockBase(Model):
    """What every block has besides its own fields: an optional writing direction."""

    dir: Direction | None = _doc(
        "Writing direction of this block (rtl for Arabic or Hebrew); defaults to the issue's.",
        "rtl",
        default=None,
    )


class HeadlineBlock(BlockBase):
    """The story's main title (h1)."""

    type: Literal["headline"] = _doc("Block type.", "headline")
    text: NonEmpty = _doc("The title.", "Why do our muscles fade with age? A new clue")


class TextBlock(BlockBase):
    """Markdown paragraphs: **bold**, _italic_, [links](https://...), lists, > quotes, ### headings, ---."""

    type: Literal["text"] = _doc("Block type.", "text")
    body: Markdown = _doc(
        "Markdown: **bold**, _italic_, [links](https://...), lists, > quotes, ###/#### headings, --- rules.",
        "Dear {first_name|Friend},\n\nNobody is surprised when the years start to show.",
        min_length=1,
    )


class HeadingBlock(BlockBase):
    """A section heading (h2) inside the story."""

    type: Literal["heading"] = _doc("Block type.", "heading")
    text: NonEmpty = _doc("The heading.", "What the researchers saw")


class Tip(Model):
    """One item of a tips list: a bold lead and its explanation."""

    lead: NonEmpty = _doc("The bold opening words.", "Keep moving")
    text: Markdown = _doc(
        "The explanation (Markdown).", "Strength work twice a week protects muscle.", min_length=1
    )


class TipsBlock(BlockBase):
    """A titled list of practical tips."""

    type: Literal["tips"] = _doc("Block type.", "tips")
    title: str | None = _doc("Title of the box.", "Four ways to protect your muscles", default=None)
    intro: Markdown | None = _doc(
        "A line before the tips (Markdown).", "These habits already help:", default=None
    )
    items: list[Tip] = _doc(
        "The tips, at least one.", [{"lead": "Keep moving", "text": "Walk daily."}], min_length=1
    )


class StudyBlock(BlockBase):
    """A research-study card: journal, study type with its evidence level, population, summary, citation."""

    type: Literal["study"] = _doc("Block type.", "study")
    title: NonEmpty = _doc("What the study found, in a line.", "A muscle protein that upsets balance")
    journal: NonEmpty = _doc("Where it was published.", "Journal of Cachexia, Sarcopenia and Muscle")
    study_type: NonEmpty = _doc(
        "Kind of study, from the vocabulary in docs/issue-format.md (its evidence level is shown).",
        "randomised controlled trial",
        "cohort study",
        "animal study",
    )
    population: NonEmpty = _doc("Who or what was studied.", "1,200 adults over 65", "Mice")
    published: dt.date | None = _doc("Publication date.", "2026-10-02", default=None)
    why_it_matters: Markdown | None = _doc(
        "Why readers should care (Markdown).", "It may explain falls.", default=None
    )
    summary: Markdown = _doc(
        "What was done and found (Markdown).", "The team compared young and old mice.", min_length=1
    )
    url: HttpsUrl | None = _doc(
        "Link to the study (lint: missing).", "https://doi.org/10.1002/jcsm.13000", default=None
    )
    doi: str | None = _doc(
        "The study's DOI, e.g. 10.1002/jcsm.13000 (lint: format).", "10.1002/jcsm.13000", default=None
    )
    pmid: str | None = _doc("The study's PubMed id, 1 to 8 digits (lint: format).", "38123456", default=None)
    issn: str | None = _doc("The journal's ISSN, NNNN-NNNC (lint: check digit).", "2190-5991", default=None)
    disclaimer: Markdown | None = _doc(
        "A note shown at the foot of this card; replaces the publication's study_disclaimer.",
        "One study in mice: it does not show the same happens in people.",
        default=None,
    )


class QuoteBlock(BlockBase):
    """A pull quote, usually from an expert, with attribution."""

    type: Literal["quote"] = _doc("Block type.", "quote")
    text: NonEmpty = _doc("The quote.", "Sarcopenia is about more than weak muscles.")
    by: str | None = _doc("Who said it.", "Dr. Miriam Caldwell", default=None)
    role: str | None = _doc("Their role.", "geriatric physician", default=None)


class FaqItem(Model):
    """One question and its Markdown answer."""

    q: NonEmpty = _doc("The question.", "What links muscle loss and falls?")
    a: Markdown = _doc(
        "The answer (Markdown).", "Weak muscles make it harder to recover a stumble.", min_length=1
    )


class FaqBlock(BlockBase):
    """Questions and answers, optionally preceded by a table of contents with anchors."""

    type: Literal["faq"] = _doc("Block type.", "faq")
    title: str = _doc("The section title.", "FAQ", default="FAQ")
    toc: bool = _doc("Add a linked table of contents before the questions.", True, default=False)
    items: list[FaqItem] = _doc(
        "The questions, at least one.", [{"q": "Why?", "a": "Because."}], min_length=1
    )


class ImageBlock(BlockBase):
    """An image; alt text is required unless the image is marked decorative."""

    type: Literal["image"] = _doc("Block type.", "image")
    src: HttpsUrl = _doc("The image's https:// address.", "https://cdn.example.org/img/walk.jpg")
    alt: str = _doc(
        "What the image shows, for readers who cannot see it.", "Older adult lifting a light weight"
    )
    decorative: bool = _doc("A purely decorative image (alt text may be empty).", False, default=False)
    width: int | None = _doc("Width in pixels, at most 600 (lint: missing).", 560, default=None, gt=0, le=600)
    height: int | None = _doc("Height in pixels (keeps space while images load).", 320, default=None, gt=0)
    link: LinkUrl | None = _doc("Where a tap on the image goes.", "https://example.org/story", default=None)
    caption: str | None = _doc("A line under the image.", "Balance drills, done safely.", default=None)

    @model_validator(mode="after")
    def _alt_required(self) -> ImageBlock:
        if not self.alt.strip() and not self.decorative:
            raise ValueError("alt text is required (use decorative: true for a purely decorative image)")
        return self


class SmsAction(Model):
    """Text a keyword to a number (`sms:` link): the button opens the phone's messages app."""

    number: Phone = _doc("The number to text.", "(410) 555-0147", "+14105550147")
    keyword: str | None = _doc("The word to send, filled in for the reader.", "GUIDE", default=None)


class Action(Model):
    """Where a button goes: exactly one of url, sms or tel."""

    url: LinkUrl | None = _doc("A page or email link.", "https://example.org/ask", default=None)
    sms: SmsAction | None = _doc(
        "Text a keyword to a number.", {"number": "(410) 555-0147", "keyword": "GUIDE"}, default=None
    )
    tel: Phone | None = _doc("A number to call.", "1-800-555-0134", default=None)

    @model_validator(mode="after")
    def _one_target(self) -> Action:
        chosen = [name for name in ("url", "sms", "tel") if getattr(self, name) is not None]
        if len(chosen) != 1:
            got = f"got {', '.join(chosen)}" if chosen else "got none"
            raise ValueError(f"a button needs exactly one of url, sms or tel ({got})")
        return self


class ButtonBlock(BlockBase, Action):
    """A call-to-action button (a link, a number to text or to call), with an optional line above it."""

    type: Literal["button"] = _doc("Block type.", "button")
    text: NonEmpty = _doc("The button's words.", "Ask the doctor")
    intro: Markdown | None = _doc(
        "A line above the button (Markdown).", "Wondering what this means for you?", default=None
    )


class DividerBlock(BlockBase):
    """A horizontal rule between sections."""

    type: Literal["divider"] = _doc("Block type.", "divider")


SHARE_NETWORKS = ("email", "facebook", "x", "linkedin", "whatsapp")
Network = Literal["email", "facebook", "x", "linkedin", "whatsapp"]


class ShareBlock(BlockBase):
    """A row of share links to the issue's archive page."""

    type: Literal["share"] = _doc("Block type.", "share")
    text: NonEmpty = _doc(
        "The words before the links.", "Have thoughts on this? Share it:", default="Share this issue:"
    )
    networks: list[Network] = _doc(
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

# ---------------------------------------------------------------- issue


class Author(Model):
    """A person credited on the issue."""

    name: NonEmpty = _doc("Their name.", "Dana Whitfield")
    title: str | None = _doc("Their title.", "Editorial Director", default=None)


class Signoff(Model):
    """The closing lines: closing phrase, name, title and an optional note."""

    closing: NonEmpty = _doc("The closing phrase.", "To your strength,")
    name: NonEmpty = _doc("Who signs.", "Dana Whitfield")
    title: str | None = _doc("Their title.", "Editorial Director, e-Alert", default=None)
    note: str | None = _doc("A line under the name.", "with help from our research team", default=None)


class PostScript(Model):
    """One P.S. line (the second becomes P.P.S., and so on), optionally linked."""

    text: Markdown = _doc("The line (Markdown).", "A common vitamin may help aging muscles.", min_length=1)
    url: LinkUrl | None = _doc("Makes the whole line a link.", "https://example.org/vitamin-d", default=None)


class PromoButton(Action):
    """The promo's call to action: a link, a number to text, or a number to call."""

    text: NonEmpty = _doc("The button's words.", "Send me the free guide")


class Promo(Model):
    """An optional offer after the P.S., labelled as advertising."""

    label: str | None = _doc(
        "The advertising label above it; defaults to the publication's promo_label.",
        "Advertisement",
        default=None,
    )
    headline: NonEmpty = _doc("The offer's title.", "Get our free guide")
    text: Markdown | None = _doc(
        "What is offered (Markdown).", "Text **GUIDE** and we send your copy.", default=None
    )
    image: ImageBlock | None = _doc("An image (an image block, with type: image).", None, default=None)
    button: PromoButton | None = _doc(
        "The call to action.", {"text": "Send me the guide", "url": "https://example.org/guide"}, default=None
    )
    fine_print: Markdown | None = _doc(
        "Small type under the button: consent and terms (Markdown).",
        "By texting us you agree to receive recurring automated texts. Msg & data rates may apply.",
        default=None,
    )


class Issue(Model):
    """One issue of a publication: subject, preheader, date and the blocks in order."""

    publication: NonEmpty = _doc("Which publications/<name>.yaml to use.", "e-alert", default="e-alert")
    subject: NonEmpty = _doc(
        "The email subject (lint: over 60 characters).", "The hidden reason muscles weaken as we age"
    )
    preheader: str | None = _doc(
        "Inbox preview text (lint: missing or over 110 characters).",
        "Scientists traced it to a broken link.",
        default=None,
    )
    date: dt.date = _doc("Issue date, matching the file name.", "2026-11-20")
    dir: Direction = _doc(
        "Writing direction of the whole issue (rtl for Arabic or Hebrew).", "ltr", default="ltr"
    )
    authors: list[Author] = _doc("People credited.", [{"name": "Dana Whitfield"}], default_factory=list)
    tags: list[str] = _doc("Topic words.", ["muscle", "aging"], default_factory=list)
    blocks: list[Block] = _doc(
        "The body, top to bottom.", [{"type": "headline", "text": "A new clue"}], min_length=1
    )
    signoff: Signoff = _doc("The closing lines.", {"closing": "To your strength,", "name": "Dana Whitfield"})
    ps: list[PostScript] = _doc(
        "P.S. lines: P.S., then P.P.S., ...", [{"text": "More in our archive."}], default_factory=list
    )
    promo: Promo | None = _doc("An offer after the P.S.", None, default=None)


# ---------------------------------------------------------------- publication


class Sender(Model):
    """Who the email is from."""

    name: NonEmpty = _doc("The sender's name.", "Everyday Health e-Alert")
    email: NonEmpty = _doc("The sender's address.", "alerts@e-alert.example.org")

    @field_validator("email")
    @classmethod
    def _looks_like_email(cls, value: str) -> str:
        if "@" not in value or value.startswith("@") or value.endswith("@"):
            raise ValueError(f"must be an email address, got {value!r}")
        return value


class LegalSection(Model):
    """One footer section: an optional title and Markdown body (SMS terms, privacy...)."""

    title: str | None = _doc("The section's title.", "Your privacy", default=None)
    body: Markdown = _doc("The section (Markdown).", "We never sell your email address.", min_length=1)


class Logo(Model):
    """The brand logo shown in the header."""

    src: HttpsUrl = _doc("The logo's https:// address.", "https://example.org/logo.png")
    alt: NonEmpty = _doc("The logo's alt text.", "Everyday Health e-Alert")
    width: int = _doc("Width in pixels.", 200, default=200, gt=0, le=600)


def _color(value: str) -> str:
    if not _COLOR.match(value):
        raise ValueError(f"must be a #rrggbb colour, got {value!r}")
    return value


Color = Annotated[str, AfterValidator(_color), Field(json_schema_extra={"pattern": _COLOR.pattern})]


class Colors(Model):
    """Brand colours used by the layout."""

    primary: Color = _doc("Headings, rules, buttons.", "#0b5c6b", default="#0b5c6b")
    accent: Color = _doc("Kickers, quotes, the promo.", "#c2410c", default="#c2410c")
    text: Color = _doc("Body text.", "#1f2933", default="#1f2933")
    muted: Color = _doc("Secondary text.", "#52606d", default="#52606d")
    background: Color = _doc("Around the email.", "#f4f5f7", default="#f4f5f7")
    surface: Color = _doc("The email's card.", "#ffffff", default="#ffffff")
    link: Color = _doc("Links.", "#0b5c6b", default="#0b5c6b")


class Brand(Model):
    """Logo, colours and fonts."""

    logo: Logo | None = _doc("The header logo (else the name is shown).", None, default=None)
    colors: Colors = _doc("Brand colours.", {"primary": "#0b5c6b"}, default_factory=Colors)
    font_family: str = _doc(
        "Body font stack.", "Georgia, 'Times New Roman', serif", default="Georgia, 'Times New Roman', serif"
    )
    heading_font_family: str = _doc(
        "Heading font stack.", "Helvetica, Arial, sans-serif", default="Helvetica, Arial, sans-serif"
    )


class SendGridOptions(Model):
    """Publication-level SendGrid settings."""

    asm_group_id: int | None = _doc("Unsubscribe group id.", 41, default=None, gt=0)
    categories: list[str] = _doc("Categories on every message.", ["e-alert"], default_factory=list)


CheckName = Literal["study-type", "citation", "disclaimer", "claims", "advertising", "mojibake", "merge-tags"]
CHECK_NAMES: tuple[str, ...] = (
    "study-type",
    "citation",
    "disclaimer",
    "claims",
    "advertising",
    "mojibake",
    "merge-tags",
)


class Checks(Model):
    """The publication's editorial checks: phrases to flag, and which checks block an issue."""

    flagged_phrases: list[NonEmpty] = _doc(
        "Claim words and phrases to flag in editor text (whole words, any case).",
        ["cure", "miracle", "guaranteed"],
        default_factory=list,
    )
    blocking: list[CheckName] = _doc(
        "Checks whose findings are errors for this publication instead of warnings.",
        ["claims", "study-type"],
        default_factory=list,
    )


class Publication(Model):
    """The shared parts of every issue of one newsletter."""

    name: NonEmpty = _doc("The newsletter's name.", "Everyday Health e-Alert")
    organization: NonEmpty = _doc("The publisher.", "Institute for Everyday Health, LLC")
    sender: Sender = _doc(
        "Who the email is from.", {"name": "e-Alert", "email": "alerts@example.org"}, alias="from"
    )
    reply_to: str | None = _doc("Reply-To address.", "editors@example.org", default=None)
    postal_address: NonEmpty = _doc("Postal address (CAN-SPAM).", "PO Box 2718\nLewes, DE 19958")
    disclaimer: Markdown | None = _doc(
        "Medical disclaimer at the top of every issue (Markdown).",
        "Nothing here is personal medical advice.",
        default=None,
    )
    study_disclaimer: Markdown | None = _doc(
        "A note at the foot of every study card (Markdown); a card's own disclaimer replaces it.",
        "One study rarely settles a question: talk with your doctor before changing your care.",
        default=None,
    )
    promo_label: str | None = _doc("The advertising label over every promo.", "Advertisement", default=None)
    legal: list[LegalSection] = _doc(
        "Footer sections.",
        [{"title": "Privacy", "body": "We never sell your address."}],
        default_factory=list,
    )
    brand: Brand = _doc("Logo, colours and fonts.", {"colors": {"primary": "#0b5c6b"}}, default_factory=Brand)
    web_base_url: HttpsUrl = _doc(
        "The public site: archive and unsubscribe pages.", "https://e-alert.example.org"
    )
    archive_path: str = _doc(
        "Path of an issue's archive page under web_base_url; {slug} is the issue's file name.",
        "/archive/{slug}",
        default="/archive/{slug}",
        pattern=r"^/[^\s]*\{slug\}[^\s]*$",
    )
    timezone: str = _doc("IANA time zone for scheduling.", "America/New_York", default="America/New_York")
    language: str = _doc("Language code of the email.", "en", default="en")
    default_list: str | None = _doc("The list sends go to by default.", "e-alert", default=None)
    sendgrid: SendGridOptions = _doc(
        "SendGrid settings.", {"asm_group_id": 41}, default_factory=SendGridOptions
    )
    checks: Checks = _doc("Editorial checks.", {"flagged_phrases": ["cure"]}, default_factory=Checks)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as America/New_York)"
            ) from None
        return value

    def archive_url(self, slug: str) -> str:
        """The public archive page of an issue."""
        return self.web_base_url.rstrip("/") + self.archive_path.replace("{slug}", slug)
