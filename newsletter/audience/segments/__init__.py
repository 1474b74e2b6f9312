"""Segments in the database: the segment language compiled to SQL, who matches, saved segments.

The language itself (grammar, parser, type check, persona evaluation) is pure and lives in
`newsletter.content.segments`, where the render stage can use it; this package holds what needs the
database: `attributes.py` and `compile.py` (checked segment → SQLAlchemy Core condition, SQLite and
PostgreSQL), `members.py` (the condition, matching readers, count, sample) and `saved.py` (named
segments). Import the submodules; nothing is re-exported here.
"""
