"""libyaml's C parser and PyYAML's pure-Python parser give the same documents, problems and positions.

The C parser is used when available (it is ~7x faster); the pure one words every syntax error, so a
file libyaml rejects reads the same either way. Compared on every fixture and sample, and on snippets
that are easy to get wrong.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from newsletter.content.yaml_loader import MAX_FILE_BYTES, libyaml_available, parse_yaml, read_yaml

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(
    [
        *(ROOT / "tests" / "fixtures").rglob("*.yaml"),
        *(ROOT / "issues").glob("*.yaml"),
        *(ROOT / "publications").glob("*.yaml"),
    ]
)
SNIPPETS = [
    "a: 1\nb: [1, 2\nc: 3\n",
    "a:\n  b: 1\n c: 2\n",
    "a: 1\nb: x\x00y\n",
    "a: x\x07\n",
    "a:\tb\n",
    'a: {é: 1, b: "ü"}\ny: |\n  héllo\n  wörld\nz: w\n',
    'a: "unterminated\n',
    "a: 'it''s'\nb: >\n  folded\n  text\n\n  kept\n",
    "- a\n- b\n",
    "",
    "---\na: 1\n---\nb: 2\n",
    "a: &x [1]\nb: *x\nc: !!str y\n? [k]\n: v\n",
    "a: " + "[" * 3000 + "]" * 3000 + "\n",
    "k" * 1100 + ": long key\n",
    "a: b\u2028c: d\n",
    "a: 1\r\nb: 2\r\n",
    "a: @x\n",
    "a: `x\n",
    "a: 2026-13-45\nb: 2026-11-20\nc: 1e3\nd: 0x10\ne: ~\n",
]


def test_libyaml_is_used_where_pyyaml_has_it() -> None:
    if not libyaml_available() and os.environ.get("CI", "").lower() == "true":
        pytest.fail("PyYAML was installed without libyaml (CI=true: the fast parser must be tested)")
    if not libyaml_available():
        pytest.skip("PyYAML was built without libyaml: only the pure-Python parser runs here")


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_both_parsers_read_every_fixture_alike(path: Path) -> None:
    assert read_yaml(path) == read_yaml(path, pure=True)


@pytest.mark.parametrize("text", SNIPPETS, ids=range(len(SNIPPETS)))
def test_both_parsers_read_tricky_snippets_alike(text: str) -> None:
    fast, pure = parse_yaml("doc.yaml", text), parse_yaml("doc.yaml", text, pure=True)
    assert fast == pure
    assert [str(p) for p in fast.problems] == [str(p) for p in pure.problems]


def test_a_file_over_the_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    body = "  - type: text\n    body: " + "x" * 200 + "\n"
    path.write_text("blocks:\n" + body * (MAX_FILE_BYTES // len(body) + 10), encoding="utf-8")
    [problem] = read_yaml(path).problems
    size = path.stat().st_size / 1_000_000
    assert str(problem) == (
        f"{path}:1:1: file is {size:.1f} MB; files over 1 MB are refused "
        "(split the issue, or move long text elsewhere)"
    )
    assert read_yaml(path).data is None


def test_text_can_be_parsed_without_a_file() -> None:
    doc = parse_yaml("draft of 2026-11-20", "subject: Hi\nsubject: again\n")
    assert doc.data == {"subject": "Hi"}
    assert [str(p) for p in doc.problems] == [
        "draft of 2026-11-20:2:1: subject: duplicate key 'subject' (first defined on line 1)"
    ]


def test_both_parsers_agree_on_mangled_samples() -> None:
    """Seeded random edits of the samples (stray quotes, brackets, colons, indents, tabs) read alike."""
    rng = random.Random(20261120)
    pieces = [" ", "  ", "\n", ":", "- ", '"', "'", "[", "]", "{", "}", ",", "#", "|", ">", "?", "&", "*"]
    pieces += ["!", "%", "@", "`", "\t", "\\", "…", "---", " #", "\r"]
    samples = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "issues").glob("*.yaml"))]
    for _ in range(150):
        text = rng.choice(samples)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(text) + 1)
            cut = rng.randint(0, 3) if rng.random() < 0.5 else 0
            text = text[:at] + (rng.choice(pieces) if not cut else "") + text[at + cut :]
        assert parse_yaml("doc.yaml", text) == parse_yaml("doc.yaml", text, pure=True), text
