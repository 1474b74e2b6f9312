"""CSS inlining with premailer: our stylesheet goes inline, MJML's own <style> blocks stay verbatim.

Measured premailer traps and what this module does about them:
- a lower-case `<!doctype html>` is dropped: the doctype is upper-cased first;
- rules in processed <style> tags are inlined and `!important` is stripped from the kept
  `@media` rules, which breaks MJML's responsive columns and our dark-mode overrides: every
  <style> in the compiled document is marked `data-premailer="ignore"` (kept byte for byte),
  and only the stylesheet passed here is inlined (`strip_important=False` as a second guard);
- lxml percent-encodes spaces and non-ASCII in href/src: callers shield merge tags first
  (`newsletter.content.markdown.shield_merge_tags`);
- parsing the stylesheet is ~80% of premailer's time and the sheet is the same for every issue
  of a publication: the parsed rules are cached per (sheet, index);
- no network, no link rewriting, classes kept (dark-mode and mobile rules select on them),
  cssutils validation off and its logging silenced. Rules that cannot be inlined (pseudo-classes
  other than :first-child/:last-child, media queries) are dropped: they belong in head CSS.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

from premailer import Premailer

_DOCTYPE = re.compile(r"^\s*<!doctype html>", re.IGNORECASE)
_STYLE_TAG = re.compile(r"<style(?=[\s>])", re.IGNORECASE)
_IGNORE = ' data-premailer="ignore"'  # premailer removes it only from the tags it reaches
_OPTIONS: dict[str, Any] = {
    "keep_style_tags": True,
    "strip_important": False,
    "remove_classes": False,
    "disable_validation": True,
    "disable_link_rewrites": True,
    "allow_network": False,
    "allow_loading_external_files": False,
    "align_floating_images": False,
    "cssutils_logging_level": logging.CRITICAL,
    "disable_leftover_css": True,
}


class _Inliner(Premailer):  # type: ignore[misc]  # premailer ships no type information
    """Premailer with the parsed rules of a stylesheet cached (leftover rules are unused here)."""

    def _parse_style_rules(self, css_body: str, ruleset_index: int) -> tuple[list[Any], list[Any]]:
        rules, leftover = _parsed_rules(css_body, ruleset_index)
        return list(rules), list(leftover)


@lru_cache(maxsize=32)
def _parsed_rules(css_body: str, ruleset_index: int) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    rules, leftover = Premailer._parse_style_rules(_PARSER, css_body, ruleset_index)
    return tuple(rules), tuple(leftover)


_PARSER = Premailer(**_OPTIONS)


def inline_css(html: str, css: str) -> str:
    """Inline `css` into the compiled email `html`; the document's own <style> tags are kept as is."""
    document = _DOCTYPE.sub("<!DOCTYPE html>", html, count=1)
    document = _STYLE_TAG.sub("<style" + _IGNORE, document)
    inlined = str(_Inliner(document, css_text=[css], **_OPTIONS).transform())
    return inlined.replace(_IGNORE, "")
