"""The README documents every CLI command and every setting, and the set-up commands it promises exist."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from newsletter.cli import main
from newsletter.config import CONFIG_FILE_ENV, Settings, env_name

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "newsletter") -> Iterator[str]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # the lazy top-level group imports each command here
        command = group.get_command(ctx, name)
        assert command is not None, f"{prefix} {name} is listed but cannot be loaded"
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}"


@pytest.mark.parametrize("command", list(_commands(main)))
def test_readme_lists_every_command(command: str) -> None:
    words = command.split()
    listed = command in README or f"`{words[-1]} SEND`" in README
    assert listed, f"README.md does not document `{command}`"


@pytest.mark.parametrize("script", ["scripts/demo", "scripts/test", ".ci/run"])
def test_setup_scripts_exist_and_are_executable(script: str) -> None:
    assert f"{script}" in README or script == ".ci/run"
    assert os.access(ROOT / script, os.X_OK)


def test_ci_runs_the_readme_test_command() -> None:
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def _settings_table() -> set[str]:
    """The variables in the first column of the README's settings table."""
    section = README.split("## Settings", 1)[1].split("\n## ", 1)[0]
    return {row.split("`")[1] for row in section.splitlines() if row.startswith("| `")}


def test_readme_lists_every_setting_and_only_real_ones() -> None:
    variables = {env_name(field) for field in Settings.model_fields} | {CONFIG_FILE_ENV}
    assert _settings_table() == variables
