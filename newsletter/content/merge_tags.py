"""The fixed set of per-recipient merge tags editors may write, e.g. `{first_name|Friend}`."""

from __future__ import annotations

import re

EDITOR_TAGS: frozenset[str] = frozenset({"first_name", "last_name", "name", "email"})
"""Tags an editor may write in any text field, each with an optional `|fallback`."""

SYSTEM_TAGS: frozenset[str] = frozenset({"unsubscribe_url", "manage_url", "view_url"})
"""Links the system fills in per recipient; used by the layout, never written by editors."""

TAG_PATTERN = re.compile(r"\{([a-z_]+)(?:\|([^{}|\n]{0,60}))?\}")
"""`{name}` or `{name|fallback}`; only names in EDITOR_TAGS or SYSTEM_TAGS are merge tags."""
