"""Streaming, idempotent CSV import of subscribers with a rejects file (source → staging → upsert)."""
