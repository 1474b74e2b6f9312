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
  of a publication: the parsed rules (plain selectors and declarations) are cached per (sheet,
  index) in memory and, given a cache folder, on disk, so a new process skips cssutils' parse;
- premailer imports `requests` (for external stylesheets, which we never load): a stand-in is
  registered before premailer is imported, so `requests` is loaded only if something uses it;
- rules whose classes appear nowhere in the document are not queried at all (they cannot match);
- no network, no link rewriting, classes kept (dark-mode and mobile rules select on them),
  cssutils validation off and its logging silenced. Rules that cannot be inlined (pseudo-classes
  other than :first-child/:last-child, media queries) are dropped: they belong in head CSS.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import re
import sys
import tempfile
import types
from functools import lru_cache
from pathlib import Path
from typing import Any


class _Deferred(types.ModuleType):
    """Stands in for a module until something uses one of its attributes; then imports it for real.

    (importlib.util.LazyLoader would do, but `import name` reads `__spec__`, which makes it load.)
    """

    def __getattr__(self, attribute: str) -> Any:
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        return getattr(importlib.import_module(name), attribute)


def _defer_module(name: str) -> None:
    """Register a stand-in for `name` that imports it only when one of its attributes is used."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None:
        return
    stand_in = _Deferred(name)
    stand_in.__spec__ = spec
    sys.modules[name] = stand_in


_defer_module("requests")
from premailer import Premailer  # noqa: E402

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


Rule = tuple[tuple[int, ...], str, str]
"""(specificity, selector, declarations), as premailer's parser returns them."""


class _Inliner(Premailer):  # type: ignore[misc]  # premailer ships no type information
    """Premailer with the parsed rules of a stylesheet cached (leftover rules are unused here:
    `disable_leftover_css` means premailer never adds them back to the document)."""

    def __init__(self, html: str, cache_dir: Path | None, **kwargs: Any) -> None:
        super().__init__(html, **kwargs)
        self._cache_dir = cache_dir
        self._used = frozenset(name for value in _CLASS_ATTR.findall(html) for name in value.split())

    def _parse_style_rules(self, css_body: str, ruleset_index: int) -> tuple[list[Any], list[Any]]:
        rules = _parsed_rules(css_body, ruleset_index, self._cache_dir)
        return [rule for rule in rules if self._used.issuperset(_classes(rule[1]))], []


_CLASS_ATTR = re.compile(r"""\sclass=["']([^"']*)["']""")
_CLASS = re.compile(r"\.([A-Za-z0-9_-]+)")


@lru_cache(maxsize=512)
def _classes(selector: str) -> frozenset[str]:
    """The class names a selector needs: a rule is queried only if every one is used in the document
    (premailer would otherwise run every rule's selector query; most of the sheet is for blocks an
    issue does not use)."""
    return frozenset(_CLASS.findall(selector))


@lru_cache(maxsize=32)
def _parsed_rules(css_body: str, ruleset_index: int, cache_dir: Path | None) -> tuple[Rule, ...]:
    digest = hashlib.sha256(css_body.encode("utf-8")).hexdigest()[:32]
    path = cache_dir / "css" / f"{digest}-{ruleset_index}.json" if cache_dir else None
    if path is not None and path.is_file():
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            return tuple((tuple(spec), selector, bulk) for spec, selector, bulk in saved)
        except (OSError, ValueError, TypeError):
            pass  # a damaged cache file is parsed again and replaced
    rules, _leftover = Premailer._parse_style_rules(_PARSER, css_body, ruleset_index)
    parsed = tuple((tuple(spec), str(selector), str(bulk)) for spec, selector, bulk in rules)
    if path is not None:
        _save(path, json.dumps(parsed))
    return parsed


def _save(path: Path, text: str) -> None:
    """Write a cache file atomically; a cache that cannot be written is simply not kept."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError:
        return


_PARSER = Premailer(**_OPTIONS)


def inline_css(html: str, css: str, cache_dir: Path | None = None) -> str:
    """Inline `css` into the compiled email `html`; the document's own <style> tags are kept as is.

    With `cache_dir`, the stylesheet's parsed rules are kept there for the next process.
    """
    document = _DOCTYPE.sub("<!DOCTYPE html>", html, count=1)
    document = _STYLE_TAG.sub("<style" + _IGNORE, document)
    inlined = str(_Inliner(document, cache_dir, css_text=[css], **_OPTIONS).transform())
    return inlined.replace(_IGNORE, "")
