"""Every block type has an HTML and a text template, and text templates switch escaping off."""

from __future__ import annotations

import pytest

from newsletter.config import PROJECT_ROOT
from newsletter.content.schema import BLOCK_TYPES

TEMPLATES = PROJECT_ROOT / "templates" / "emails"


@pytest.mark.parametrize("block_type", BLOCK_TYPES)
def test_every_block_type_has_an_html_and_a_text_template(block_type: str) -> None:
    assert (TEMPLATES / "blocks" / f"{block_type}.mjml.j2").is_file()
    assert (TEMPLATES / "text" / f"{block_type}.txt.j2").is_file()


def test_no_template_for_an_unknown_block_type() -> None:
    names = {p.name.split(".")[0] for p in (TEMPLATES / "blocks").glob("*.mjml.j2")}
    assert names == set(BLOCK_TYPES)


@pytest.mark.parametrize("path", sorted((TEMPLATES / "text").glob("*.txt.j2")), ids=lambda p: p.name)
def test_text_templates_turn_html_escaping_off(path: object) -> None:
    """The environment escapes everything; text/plain templates opt out explicitly."""
    source = path.read_text(encoding="utf-8")  # type: ignore[attr-defined]
    assert "{% autoescape false %}" in source
    assert source.rstrip().endswith("{% endautoescape %}")


def test_layout_and_partials_exist() -> None:
    for name in ("layout.mjml.j2", "partials/header.mjml.j2", "partials/footer.mjml.j2"):
        assert (TEMPLATES / name).is_file(), name
