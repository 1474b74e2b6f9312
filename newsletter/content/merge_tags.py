"""The fixed set of per-recipient merge tags editors may write, e.g. `{first_name|Friend}`: the one place
merge tags are parsed (rendering, merging and the lint all use these patterns)."""

from __future__ import annotations

import re

EDITOR_TAGS: frozenset[str] = frozenset({"first_name", "last_name", "name", "email"})
"""Tags an editor may write in any text field, each with an optional `|fallback`."""

SYSTEM_TAGS: frozenset[str] = frozenset({"unsubscribe_url", "manage_url", "view_url"})
"""Links the system fills in per recipient; used by the layout, never written by editors."""

TAG_PATTERN = re.compile(r"\{([a-z_]+)(?:\|([^{}|\n]{0,60}))?\}")
"""`{name}` or `{name|fallback}`; only names in EDITOR_TAGS or SYSTEM_TAGS are merge tags."""

ANY_CASE_PATTERN = re.compile(r"\{([A-Za-z_]+)(?:\|([^{}|\n]{0,60}))?\}")
"""Like TAG_PATTERN in any letter case: finds `{FIRST_NAME}`, which is not filled in (tags are lower case)."""


def miscased(text: str) -> list[tuple[str, str]]:
    """`(as written, as it should be)` for each known tag written in the wrong case, e.g. `{FIRST_NAME}`."""
    out = []
    for match in ANY_CASE_PATTERN.finditer(text):
        name = match.group(1)
        if name != name.lower() and name.lower() in EDITOR_TAGS | SYSTEM_TAGS:
            written = match.group(0)
            out.append((written, "{" + name.lower() + written[len(name) + 1 :]))
    return out
