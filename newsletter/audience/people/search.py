"""Staff search over subscribers: a case-insensitive substring of the address or name, capped, counted.

The text is matched literally: `%`, `_` and the escape character itself are escaped for LIKE, so a
search for `a_b%` finds exactly that. Both sides are lower-cased by the database (`lower()`), the
same SQL on SQLite and PostgreSQL; SQLite's lower() folds ASCII letters only. A substring search
reads every subscriber row (no index can serve `%text%`): fine for a staff page, not for a hot path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from newsletter.db.tables import Subscriber

LIMIT: Final = 50
ESCAPE: Final = "\\"


@dataclass(frozen=True)
class Match:
    """One subscriber found."""

    email: str
    name: str | None
    status: str


@dataclass(frozen=True)
class SearchResult:
    """The first `limit` matches by address, and how many there are in all."""

    text: str
    matches: list[Match]
    total: int
    limit: int

    @property
    def capped(self) -> bool:
        """True when more subscribers match than are shown."""
        return self.total > len(self.matches)


def like_pattern(text: str) -> str:
    """`%text%` with LIKE's special characters in `text` escaped (use with escape=ESCAPE)."""
    escaped = text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return f"%{escaped}%"


def search_subscribers(session: Session, text: str, *, limit: int = LIMIT) -> SearchResult:
    """Subscribers whose address or name contains `text` (any case), ordered by address."""
    needle = text.replace("\x00", "").strip().lower()  # no stored text holds NUL (PostgreSQL refuses it)
    if not needle:
        return SearchResult(text=text, matches=[], total=0, limit=limit)
    pattern = like_pattern(needle)
    where = or_(
        func.lower(Subscriber.email).like(pattern, escape=ESCAPE),
        func.lower(Subscriber.name).like(pattern, escape=ESCAPE),
    )
    total = session.scalar(select(func.count()).select_from(Subscriber).where(where)) or 0
    rows = session.execute(
        select(Subscriber.email, Subscriber.name, Subscriber.status)
        .where(where)
        .order_by(Subscriber.email)
        .limit(limit)
    )
    return SearchResult(text=text, matches=[Match(*row) for row in rows], total=total, limit=limit)
