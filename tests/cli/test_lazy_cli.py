"""The top-level group imports a command's module only when it runs; `--help` stays complete and exact."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from newsletter.cli import COMMANDS, main
from newsletter.cli.lazy import LazyCommand, LazyGroup
from newsletter.cli.sends import BATCH_SIZE, HEARTBEAT, REFUSALS
from newsletter.deliver.engine.run import RunOptions

HEAVY = [
    "sqlalchemy",
    "alembic",
    "starlette",
    "uvicorn",
    "mjml",
    "premailer",
    "sendgrid",
    "apscheduler",
    "rich",
    "pydantic",
    "jinja2",
    "argon2",
    "newsletter.db",
    "newsletter.services",
    "newsletter.render",
    "newsletter.content",
]
"""Top-level packages a plain `newsletter --help` must not import."""

PROBE = """
import json, sys
from newsletter.cli import main
try:
    main(sys.argv[1:], prog_name="newsletter")
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def imported_by(*args: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules a fresh interpreter has imported after running `newsletter ARGS`."""
    command = [sys.executable, "-c", PROBE, *args]
    result = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


def heavy_among(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(f"{h}.") for h in HEAVY))


def test_plain_help_imports_no_stage_and_no_heavy_library() -> None:
    modules = imported_by("--help")
    assert "newsletter.cli" in modules
    assert heavy_among(modules) == []
    assert not [m for m in modules if m.startswith("newsletter.cli.") and m != "newsletter.cli.lazy"]


def test_the_probe_sees_heavy_imports_when_a_command_loads_them() -> None:
    """The import check can fail: a command that needs the database does import SQLAlchemy."""
    assert "sqlalchemy" in heavy_among(imported_by("lists", "--help"))


def test_check_help_does_not_import_the_database() -> None:
    modules = imported_by("check", "--help")
    assert "newsletter.cli.content" in modules
    assert not [
        m
        for m in heavy_among(modules)
        if m.split(".")[0] in {"sqlalchemy", "alembic", "starlette", "sendgrid"}
    ]


def test_lists_list_loads_neither_alembic_nor_a_transport_nor_render(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "SENDGRID_"))}
    env["NEWSLETTER_DATABASE_URL"] = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade = [sys.executable, "-m", "newsletter", "db", "upgrade"]
    subprocess.run(upgrade, env=env, check=True, capture_output=True)
    modules = imported_by("lists", "list", env=env)
    assert "newsletter.audience.people.lists" in modules
    unwanted = {
        "alembic",
        "sendgrid",
        "cryptography",
        "apscheduler",
        "rich",
        "mjml",
        "premailer",
        "newsletter.render",
    }
    assert (
        sorted(m for m in modules if m.split(".")[0] in unwanted or m.startswith("newsletter.render")) == []
    )


def test_worker_batch_size_default_is_the_runners() -> None:
    assert RunOptions.batch_size == BATCH_SIZE


def test_worker_refusal_and_heartbeat_defaults_are_the_runners() -> None:
    assert (RunOptions.refused_batches_before_pause, RunOptions.heartbeat_seconds) == (REFUSALS, HEARTBEAT)


def _eager_copy() -> click.Group:
    """The same group with every command imported up front, as it was written before lazy loading."""
    eager = click.Group(
        "newsletter", help=main.help, context_settings=main.context_settings, params=main.params
    )
    for name, entry in COMMANDS.items():
        eager.add_command(entry.load(), name)
    return eager


def test_help_lists_every_command_exactly_as_click_would() -> None:
    lazy = CliRunner().invoke(main, ["--help"], prog_name="newsletter")
    eager = CliRunner().invoke(_eager_copy(), ["--help"], prog_name="newsletter")
    assert lazy.exit_code == eager.exit_code == 0
    assert lazy.stdout == eager.stdout
    for name in COMMANDS:
        assert f"\n  {name} " in lazy.stdout


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_table_help_matches_the_command(name: str) -> None:
    command = COMMANDS[name].load()
    assert command.name == name
    assert command.help is not None
    assert command.help.split("\n\n")[0].strip() == COMMANDS[name].help


def _all_command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _all_command_paths(command, (*prefix, name))


@pytest.mark.parametrize("path", list(_all_command_paths(main)), ids=" ".join)
def test_every_command_help_works(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"], prog_name="newsletter")
    assert result.exit_code == 0, result.output
    assert f"Usage: newsletter {' '.join(path)}" in result.stdout


def test_unknown_command_is_still_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command 'no-such-command'" in result.stderr


def test_a_misnamed_table_entry_is_refused() -> None:
    group = LazyGroup("g", lazy_commands={"wrong": LazyCommand("newsletter.cli.content:check", "x")})
    with pytest.raises(TypeError, match="named 'check'"):
        group.get_command(click.Context(group), "wrong")
