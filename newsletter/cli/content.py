"""CLI commands over content and render: `check`, `render` (filled in with the loader and renderer)."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    """Add this module's commands to the top-level group."""
