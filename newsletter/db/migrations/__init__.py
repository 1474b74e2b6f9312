"""Alembic environment and revisions; run them through newsletter.db.migrate.upgrade."""
