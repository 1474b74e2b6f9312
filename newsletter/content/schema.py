"""Typed models of the issue file and the publication file (docs: ../shared/design/issue-format.md)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

_SCHEME = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.\-]*):")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _check_url(value: str, *, allow_mailto: bool) -> str:
    value = value.strip()
    match = _SCHEME.match(value)
    scheme = match.group(1).lower() if match else ""
    if scheme == "javascript":
        raise ValueError("javascript: URLs are not allowed")
    if scheme == "mailto" and allow_mailto:
        return value
    if scheme != "https":
        expected = "https:// (or mailto:)" if allow_mailto else "https://"
        raise ValueError(f"must be an absolute {expected} URL, got {value!r}")
    parts = urlsplit(value)
    if not parts.hostname:
        raise ValueError(f"must be an absolute https:// URL with a host, got {value!r}")
    return value


def _https(value: str) -> str:
    return _check_url(value, allow_mailto=False)


def _link(value: str) -> str:
    return _check_url(value, allow_mailto=True)


HttpsUrl = Annotated[str, AfterValidator(_https)]
"""An absolute https:// URL (images, web pages)."""
LinkUrl = Annotated[str, AfterValidator(_link)]
"""An absolute https:// or mailto: URL (links an editor writes)."""
Markdown = str
"""Markdown source; rendered through the safe renderer, never as raw HTML."""
NonEmpty = Annotated[str, Field(min_length=1)]


class Model(BaseModel):
    """Base for content models: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


# ---------------------------------------------------------------- blocks


class HeadlineBlock(Model):
    """The story's main title (h1)."""

    type: Literal["headline"]
    text: NonEmpty


class TextBlock(Model):
    """Markdown paragraphs: **bold**, _italic_, [links](https://...), lists."""

    type: Literal["text"]
    body: Markdown = Field(min_length=1)


class HeadingBlock(Model):
    """A section heading (h2) inside the story."""

    type: Literal["heading"]
    text: NonEmpty


class Tip(Model):
    """One item of a tips list: a bold lead and its explanation."""

    lead: NonEmpty
    text: Markdown = Field(min_length=1)


class TipsBlock(Model):
    """A titled list of practical tips."""

    type: Literal["tips"]
    title: str | None = None
    intro: Markdown | None = None
    items: list[Tip] = Field(min_length=1)


class StudyBlock(Model):
    """A research-study card: journal, study type, population, summary and a link."""

    type: Literal["study"]
    title: NonEmpty
    journal: NonEmpty
    study_type: NonEmpty
    population: NonEmpty
    published: date | None = None
    why_it_matters: Markdown | None = None
    summary: Markdown = Field(min_length=1)
    url: HttpsUrl | None = None


class QuoteBlock(Model):
    """A pull quote, usually from an expert, with attribution."""

    type: Literal["quote"]
    text: NonEmpty
    by: str | None = None
    role: str | None = None


class FaqItem(Model):
    """One question and its Markdown answer."""

    q: NonEmpty
    a: Markdown = Field(min_length=1)


class FaqBlock(Model):
    """Questions and answers, optionally preceded by a table of contents with anchors."""

    type: Literal["faq"]
    title: str = "FAQ"
    toc: bool = False
    items: list[FaqItem] = Field(min_length=1)


class ImageBlock(Model):
    """An image; alt text is required unless the image is marked decorative."""

    type: Literal["image"]
    src: HttpsUrl
    alt: str
    decorative: bool = False
    width: int | None = Field(None, gt=0, le=600)
    height: int | None = Field(None, gt=0)
    link: LinkUrl | None = None
    caption: str | None = None

    @model_validator(mode="after")
    def _alt_required(self) -> ImageBlock:
        if not self.alt.strip() and not self.decorative:
            raise ValueError("alt text is required (use decorative: true for a purely decorative image)")
        return self


class ButtonBlock(Model):
    """A call-to-action button, with an optional line of text above it."""

    type: Literal["button"]
    text: NonEmpty
    url: LinkUrl
    intro: Markdown | None = None


class DividerBlock(Model):
    """A horizontal rule between sections."""

    type: Literal["divider"]


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
    | DividerBlock,
    Field(discriminator="type"),
]
BLOCK_TYPES: tuple[str, ...] = (
    "headline", "text", "heading", "tips", "study", "quote", "faq", "image", "button", "divider",
)  # fmt: skip

# ---------------------------------------------------------------- issue


class Author(Model):
    """A person credited on the issue."""

    name: NonEmpty
    title: str | None = None


class Signoff(Model):
    """The closing lines: closing phrase, name, title and an optional note."""

    closing: NonEmpty
    name: NonEmpty
    title: str | None = None
    note: str | None = None


class PostScript(Model):
    """One P.S. line (the second becomes P.P.S., and so on), optionally linked."""

    text: Markdown = Field(min_length=1)
    url: LinkUrl | None = None


class PromoButton(Model):
    """The promo's call to action."""

    text: NonEmpty
    url: LinkUrl


class Promo(Model):
    """An optional offer after the P.S."""

    headline: NonEmpty
    text: Markdown | None = None
    image: ImageBlock | None = None
    button: PromoButton | None = None


class Issue(Model):
    """One issue of a publication: subject, preheader, date and the blocks in order."""

    publication: NonEmpty = "e-alert"
    subject: NonEmpty
    preheader: str | None = None
    date: date
    authors: list[Author] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    blocks: list[Block] = Field(min_length=1)
    signoff: Signoff
    ps: list[PostScript] = Field(default_factory=list)
    promo: Promo | None = None


# ---------------------------------------------------------------- publication


class Sender(Model):
    """Who the email is from."""

    name: NonEmpty
    email: NonEmpty

    @field_validator("email")
    @classmethod
    def _looks_like_email(cls, value: str) -> str:
        if "@" not in value or value.startswith("@") or value.endswith("@"):
            raise ValueError(f"must be an email address, got {value!r}")
        return value


class LegalSection(Model):
    """One footer section: an optional title and Markdown body (SMS terms, privacy...)."""

    title: str | None = None
    body: Markdown = Field(min_length=1)


class Logo(Model):
    """The brand logo shown in the header."""

    src: HttpsUrl
    alt: NonEmpty
    width: int = Field(200, gt=0, le=600)


def _color(value: str) -> str:
    if not _COLOR.match(value):
        raise ValueError(f"must be a #rrggbb colour, got {value!r}")
    return value


Color = Annotated[str, AfterValidator(_color)]


class Colors(Model):
    """Brand colours used by the layout."""

    primary: Color = "#0b5c6b"
    accent: Color = "#c2410c"
    text: Color = "#1f2933"
    muted: Color = "#52606d"
    background: Color = "#f4f5f7"
    surface: Color = "#ffffff"
    link: Color = "#0b5c6b"


class Brand(Model):
    """Logo, colours and fonts."""

    logo: Logo | None = None
    colors: Colors = Field(default_factory=Colors)
    font_family: str = "Georgia, 'Times New Roman', serif"
    heading_font_family: str = "Helvetica, Arial, sans-serif"


class SendGridOptions(Model):
    """Publication-level SendGrid settings."""

    asm_group_id: int | None = Field(None, gt=0)
    categories: list[str] = Field(default_factory=list)


ATTRIBUTE_TYPES = ("string", "number", "date", "boolean", "enum")
"""What a subscriber attribute may hold; docs/segments.md says how each is read and compared."""
_ATTRIBUTE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def _attribute_name(value: str) -> str:
    if not _ATTRIBUTE_NAME.match(value):
        raise ValueError(
            f"attribute name {value!r} must be lower-case letters, digits and _ "
            "(as the CSV import names columns: `Signup Source` becomes signup_source)"
        )
    return value


AttributeName = Annotated[str, AfterValidator(_attribute_name)]


class AttributeSpec(Model):
    """One subscriber attribute a publication uses (in segments, later merge tags): its type.

    In YAML either `name: type` or `name: {type: enum, values: [...], description: ...}`.
    """

    type: Literal["string", "number", "date", "boolean", "enum"]
    values: list[NonEmpty] = Field(default_factory=list)
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: object) -> object:
        return {"type": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _values_only_for_enums(self) -> AttributeSpec:
        if self.type == "enum" and not self.values:
            raise ValueError("an enum needs its values: {type: enum, values: [a, b]}")
        if self.type != "enum" and self.values:
            raise ValueError(f"only an enum lists values; this attribute is a {self.type}")
        return self


class Publication(Model):
    """The shared parts of every issue of one newsletter."""

    name: NonEmpty
    organization: NonEmpty
    sender: Sender = Field(alias="from")
    reply_to: str | None = None
    postal_address: NonEmpty
    disclaimer: Markdown | None = None
    legal: list[LegalSection] = Field(default_factory=list)
    brand: Brand = Field(default_factory=Brand)
    web_base_url: HttpsUrl
    timezone: str = "America/New_York"
    language: str = "en"
    default_list: str | None = None
    sendgrid: SendGridOptions = Field(default_factory=SendGridOptions)
    attributes: dict[AttributeName, AttributeSpec] = Field(default_factory=dict)

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
