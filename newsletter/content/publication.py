"""The publication file: what every issue of one newsletter shares (sender, address, brand, checks)."""

from __future__ import annotations

import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from newsletter.content.fieldtypes import HttpsUrl, Markdown, Model, NonEmpty, described

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


class Sender(Model):
    """Who the email is from."""

    name: NonEmpty = described("The sender's name.", "Everyday Health e-Alert")
    email: NonEmpty = described("The sender's address.", "alerts@e-alert.example.org")

    @field_validator("email")
    @classmethod
    def _looks_like_email(cls, value: str) -> str:
        if "@" not in value or value.startswith("@") or value.endswith("@"):
            raise ValueError(f"must be an email address, got {value!r}")
        return value


class LegalSection(Model):
    """One footer section: an optional title and Markdown body (SMS terms, privacy...)."""

    title: str | None = described("The section's title.", "Your privacy", default=None)
    body: Markdown = described("The section (Markdown).", "We never sell your email address.", min_length=1)


class Logo(Model):
    """The brand logo shown in the header."""

    src: HttpsUrl = described("The logo's https:// address.", "https://example.org/logo.png")
    alt: NonEmpty = described("The logo's alt text.", "Everyday Health e-Alert")
    width: int = described("Width in pixels.", 200, default=200, gt=0, le=600)


def _color(value: str) -> str:
    if not _COLOR.match(value):
        raise ValueError(f"must be a #rrggbb colour, got {value!r}")
    return value


Color = Annotated[str, AfterValidator(_color), Field(json_schema_extra={"pattern": _COLOR.pattern})]


class Colors(Model):
    """Brand colours used by the layout."""

    primary: Color = described("Headings, rules, buttons.", "#0b5c6b", default="#0b5c6b")
    accent: Color = described("Kickers, quotes, the promo.", "#c2410c", default="#c2410c")
    text: Color = described("Body text.", "#1f2933", default="#1f2933")
    muted: Color = described("Secondary text.", "#52606d", default="#52606d")
    background: Color = described("Around the email.", "#f4f5f7", default="#f4f5f7")
    surface: Color = described("The email's card.", "#ffffff", default="#ffffff")
    link: Color = described("Links.", "#0b5c6b", default="#0b5c6b")


class Brand(Model):
    """Logo, colours and fonts."""

    logo: Logo | None = described(
        "The header logo (else the name is shown).",
        {
            "src": "https://e-alert.example.org/assets/logo.png",
            "alt": "Everyday Health e-Alert",
            "width": 200,
        },
        default=None,
    )
    colors: Colors = described("Brand colours.", {"primary": "#0b5c6b"}, default_factory=Colors)
    font_family: str = described(
        "Body font stack.", "Georgia, 'Times New Roman', serif", default="Georgia, 'Times New Roman', serif"
    )
    heading_font_family: str = described(
        "Heading font stack.", "Helvetica, Arial, sans-serif", default="Helvetica, Arial, sans-serif"
    )


class SendGridOptions(Model):
    """Publication-level SendGrid settings."""

    asm_group_id: int | None = described("Unsubscribe group id.", 41, default=None, gt=0)
    categories: list[str] = described("Categories on every message.", ["e-alert"], default_factory=list)


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

    flagged_phrases: list[NonEmpty] = described(
        "Claim words and phrases to flag in editor text (whole words, any case).",
        ["cure", "miracle", "guaranteed"],
        default_factory=list,
    )
    blocking: list[CheckName] = described(
        "Checks whose findings are errors for this publication instead of warnings.",
        ["claims", "study-type"],
        default_factory=list,
    )


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
AttributeType = Literal["string", "number", "date", "boolean", "enum"]


def _shorthand(data: object) -> object:
    """`name: type` is short for `name: {type: type}`."""
    return {"type": data} if isinstance(data, str) else data


class AttributeSpec(Model):
    """One subscriber attribute a publication uses (in segments and merge tags): its type.

    In YAML either `name: type` or `name: {type: enum, values: [...], description: ...}`.
    """

    type: AttributeType = described("What the attribute holds.", "string")
    values: list[NonEmpty] = described(
        "The values an enum may take.", ["clinician", "patient"], default_factory=list
    )
    description: str | None = described("What the attribute means.", "The reader's role.", default=None)

    @model_validator(mode="after")
    def _values_only_for_enums(self) -> AttributeSpec:
        if self.type == "enum" and not self.values:
            raise ValueError("an enum needs its values: {type: enum, values: [a, b]}")
        if self.type != "enum" and self.values:
            raise ValueError(f"only an enum lists values; this attribute is a {self.type}")
        return self


DeclaredAttribute = Annotated[
    AttributeSpec, BeforeValidator(_shorthand, json_schema_input_type=AttributeSpec | AttributeType)
]


class Publication(Model):
    """The shared parts of every issue of one newsletter."""

    name: NonEmpty = described("The newsletter's name.", "Everyday Health e-Alert")
    organization: NonEmpty = described("The publisher.", "Institute for Everyday Health, LLC")
    sender: Sender = described(
        "The From: line: name and address.", {"name": "e-Alert", "email": "alerts@example.org"}, alias="from"
    )
    reply_to: str | None = described("Reply-To address.", "editors@example.org", default=None)
    postal_address: NonEmpty = described("Postal address (CAN-SPAM).", "PO Box 2718\nLewes, DE 19958")
    disclaimer: Markdown | None = described(
        "Medical disclaimer at the top of every issue (Markdown).",
        "Nothing here is personal medical advice.",
        default=None,
    )
    study_disclaimer: Markdown | None = described(
        "A note at the foot of every study card (Markdown); a card's own disclaimer replaces it.",
        "One study rarely settles a question: talk with your doctor before changing your care.",
        default=None,
    )
    promo_label: str | None = described(
        "The advertising label over every promo.", "Advertisement", default=None
    )
    legal: list[LegalSection] = described(
        "Footer sections.",
        [{"title": "Privacy", "body": "We never sell your address."}],
        default_factory=list,
    )
    brand: Brand = described(
        "The brand: logo, colours and fonts.", {"colors": {"primary": "#0b5c6b"}}, default_factory=Brand
    )
    web_base_url: HttpsUrl = described(
        "The public site: archive and unsubscribe pages.", "https://e-alert.example.org"
    )
    archive_path: str = described(
        "Path of an issue's archive page under web_base_url; {slug} is the issue's file name.",
        "/archive/{slug}",
        default="/archive/{slug}",
        pattern=r"^/[^\s]*\{slug\}[^\s]*$",
    )
    timezone: str = described(
        "IANA time zone for scheduling.", "America/New_York", default="America/New_York"
    )
    language: str = described("Language code of the email.", "en", default="en")
    default_list: str | None = described("The list sends go to by default.", "e-alert", default=None)
    sendgrid: SendGridOptions = described(
        "SendGrid settings.", {"asm_group_id": 41}, default_factory=SendGridOptions
    )
    checks: Checks = described("Editorial checks.", {"flagged_phrases": ["cure"]}, default_factory=Checks)
    attributes: dict[AttributeName, DeclaredAttribute] = described(
        "The subscriber attributes this publication uses in segments and merge tags, with their types.",
        {"role": {"type": "enum", "values": ["clinician", "patient"]}, "state": "string"},
        default_factory=dict,
    )

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
