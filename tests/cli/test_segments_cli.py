"""`newsletter segments create|list|show|delete` as a person runs them (CliRunner, real database)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import main

Run = Callable[..., Result]
PUBLICATIONS = Path(__file__).resolve().parents[2] / "publications"
READERS = """email,name,role,state,years_in_practice
ann@example.org,Ann,clinician,NY,12
bob@example.org,Bob,patient,NJ,
cy@example.org,Cy,clinician,CA,3
dee@example.org,Dee,clinician,NJ,30
"""


@pytest.fixture
def run(cli_env: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Run:
    """`newsletter ARGS...` on the test database, with the project's publications and four readers."""
    monkeypatch.setenv("NEWSLETTER_PUBLICATIONS_DIR", str(PUBLICATIONS))
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(main, list(args), catch_exceptions=False)

    assert invoke("lists", "create", "e-alert").exit_code == 0
    assert invoke("lists", "create", "weekly").exit_code == 0
    (tmp_path / "readers.csv").write_text(READERS, encoding="utf-8")
    assert invoke("subscribers", "import", "readers.csv", "--list", "e-alert", "--quiet").exit_code == 0
    return invoke


def test_create_list_show_and_delete(run: Run) -> None:
    created = run("segments", "create", "ny-nj", "--where", 'role = "clinician" and state in ("NY", "NJ")',
                  "--description", "Clinicians near the office")  # fmt: skip
    assert created.exit_code == 0, created.output
    assert created.output == "Created segment 'ny-nj': 2 readers on any list.\n"
    assert run(
        "segments", "create", "seniors", "--where", "years_in_practice >= 10", "--list", "weekly"
    ).output == ("Created segment 'seniors': 0 readers on weekly.\n")
    listed = run("segments", "list").output.splitlines()
    assert [line.split()[:3] for line in listed] == [
        ["name", "list", "readers"],
        ["ny-nj", "any", "2"],
        ["seniors", "weekly", "0"],
    ]
    assert listed[1].endswith('role = "clinician" and state in ("NY", "NJ")')

    shown = run("segments", "show", "NY-NJ").output.splitlines()
    assert shown[0] == 'ny-nj: role = "clinician" and state in ("NY", "NJ")'
    assert shown[1] == "  description: Clinicians near the office"
    assert shown[2] == "  list: any list; attributes of publication e-alert"
    assert shown[4] == "  readers now: 2"
    assert shown[5:] == [
        "Sample (first 2 by subscriber id):",
        "  ann@example.org  Ann  role=clinician, state=NY, years_in_practice=12",
        "  dee@example.org  Dee  role=clinician, state=NJ, years_in_practice=30",
    ]
    assert run("segments", "delete", "ny-nj").output == "Deleted segment 'ny-nj'.\n"
    assert [line.split()[0] for line in run("segments", "list").output.splitlines()] == ["name", "seniors"]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ('rol = "clinician"', "error: segment:1:1: unknown attribute 'rol' (did you mean 'role'?)\n"),
        (
            'role = "clinician" and',
            "error: segment:1:23: the expression ends too early; expected '(', 'not' or a name\n",
        ),
        ('role = "x"; DROP TABLE subscribers; --', "error: segment:1:11: unexpected character ';'\n"),
        ('in_list("nope")', "error: segment:1:9: no list named 'nope'; lists: e-alert, weekly\n"),
    ],
)
def test_a_bad_expression_is_one_located_line_and_nothing_is_saved(
    run: Run, expression: str, message: str
) -> None:
    result = run("segments", "create", "bad", "--where", expression)
    assert result.exit_code == 1
    assert result.stderr == message
    assert "Traceback" not in result.output
    assert run("segments", "list").output.startswith("No segments yet")


def test_other_mistakes_are_one_line_too(run: Run, tmp_path: Path) -> None:
    assert (
        run("segments", "show", "nope").stderr
        == "error: no segment named 'nope'; there are no segments yet\n"
    )
    assert run("segments", "delete", "nope").exit_code == 1
    missing = run("segments", "create", "x", "--where", "exists(role)", "--publication", "weekly-digest")
    assert missing.exit_code == 1
    assert "publication file not found (use --publications DIR)" in missing.stderr
    elsewhere = run("segments", "create", "x", "--where", "exists(role)", "--publications", str(tmp_path))
    assert "e-alert.yaml" in elsewhere.stderr
    assert run("segments", "create", "x y", "--where", "exists(role)").stderr.startswith(
        "error: a segment name is 1 to 100 letters"
    )
