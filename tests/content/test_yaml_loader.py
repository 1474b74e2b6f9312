"""The safe YAML reader: plain values, positions of values and keys, and every refused construct."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from newsletter.content.yaml_loader import SourceMap, format_loc, load_yaml, read_yaml
from newsletter.errors import ContentError


def write(tmp_path: Path, text: str, name: str = "doc.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def messages(path: Path) -> list[str]:
    """Every problem of a file, as the CLI prints it, without the folder part."""
    return [str(p).replace(str(path.parent) + "/", "") for p in read_yaml(path).problems]


def test_plain_values_keep_their_yaml_types(tmp_path: Path) -> None:
    text = "d: 2026-11-20\nn: 3\nf: 1.5\nb: true\nz:\ns: 'quoted'\nl: [a, 2]\nm: {k: v}\n"
    data, _ = load_yaml(write(tmp_path, text))
    assert data == {
        "d": date(2026, 11, 20),
        "n": 3,
        "f": 1.5,
        "b": True,
        "z": None,
        "s": "quoted",
        "l": ["a", 2],
        "m": {"k": "v"},
    }


def test_source_map_has_values_and_keys_by_path(tmp_path: Path) -> None:
    text = "subject: Hi\nblocks:\n  - type: text\n    body: |\n      Hello\n  - type: divider\n"
    _, source = load_yaml(write(tmp_path, text))
    assert source.values[()] == (1, 1)
    assert source.values[("subject",)] == (1, 10)
    assert source.keys[("subject",)] == (1, 1)
    assert source.values[("blocks", 0)] == (3, 5)
    assert source.keys[("blocks", 0, "body")] == (4, 5)
    assert source.values[("blocks", 0, "body")] == (4, 11)
    assert source.values[("blocks", 1, "type")] == (6, 11)


def test_locate_falls_back_to_the_nearest_known_ancestor() -> None:
    source = SourceMap("x.yaml", {(): (1, 1), ("signoff",): (7, 3)}, {("signoff",): (6, 1)})
    assert source.locate(("signoff", "name")) == (7, 3)
    assert source.locate(("ps", 0, "url")) == (1, 1)
    assert source.locate_key(("signoff",)) == (6, 1)
    assert source.locate_key(("signoff", "name")) == (7, 3)


def test_format_loc_reads_like_the_editor_writes_it() -> None:
    assert format_loc(("blocks", 2, "url")) == "blocks[2].url"
    assert format_loc(("ps", 0, "text")) == "ps[0].text"
    assert format_loc(("signoff", "name")) == "signoff.name"
    assert format_loc(()) == ""


def test_duplicate_keys_name_the_second_and_the_first_line(tmp_path: Path) -> None:
    path = write(tmp_path, "a: 1\nm:\n  k: x\n  k: y\na: 2\n")
    assert messages(path) == [
        "doc.yaml:4:3: m.k: duplicate key 'k' (first defined on line 3)",
        "doc.yaml:5:1: a: duplicate key 'a' (first defined on line 1)",
    ]
    assert read_yaml(path).data == {"a": 1, "m": {"k": "x"}}


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("!!python/object/apply:os.system ['echo hi']", "!!python/object/apply:os.system"),
        ("!!python/name:os.system", "!!python/name:os.system"),
        ("!!str plain", "!!str"),
        ("!foo bar", "!foo"),
        ("! bare", "!"),
        ("!!map {a: 1}", "!!map"),
    ],
)
def test_every_explicit_tag_is_refused(tmp_path: Path, value: str, shown: str) -> None:
    path = write(tmp_path, f"a: {value}\n")
    assert messages(path) == [f"doc.yaml:1:4: a: YAML tags ({shown}) are not allowed; write a plain value"]
    assert read_yaml(path).data == {"a": None}


def test_anchors_and_aliases_are_refused_without_expanding(tmp_path: Path) -> None:
    text = "a: &x [1, 2]\nb: *x\nc: [*x, *x]\nd: *undefined\n"
    path = write(tmp_path, text)
    assert messages(path) == [
        "doc.yaml:1:4: a: YAML anchors (&x) are not allowed; write the value out",
        "doc.yaml:2:4: b: YAML aliases (*x) are not allowed; write the value out",
        "doc.yaml:3:5: c[0]: YAML aliases (*x) are not allowed; write the value out",
        "doc.yaml:3:9: c[1]: YAML aliases (*x) are not allowed; write the value out",
        "doc.yaml:4:4: d: YAML aliases (*undefined) are not allowed; write the value out",
    ]


def test_an_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    problems = read_yaml(write(tmp_path, "\n".join(lines) + "\n")).problems
    assert len(problems) == 10 + 9 * 9  # ten anchors, eighty-one aliases, nothing expanded


def test_a_duplicate_anchor_is_reported_not_a_crash(tmp_path: Path) -> None:
    path = write(tmp_path, "a: &x 1\nb: &x 2\n")
    assert [p.line for p in read_yaml(path).problems] == [1, 2]


def test_a_second_document_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "---\na: 1\n---\nb: 2\n")
    expected = "doc.yaml:3:1: only one YAML document is allowed per file (remove the second '---')"
    assert messages(path) == [expected]


def test_keys_must_be_text(tmp_path: Path) -> None:
    path = write(tmp_path, "1: one\nnull: nothing\n'2': two\n? [a]\n: list\n")
    assert messages(path) == [
        "doc.yaml:1:1: keys must be text, got '1' (put the key in quotes)",
        "doc.yaml:2:1: keys must be text, got 'null' (put the key in quotes)",
        "doc.yaml:4:3: keys must be text, got a list or mapping",
    ]
    assert read_yaml(path).data == {"2": "two"}


def test_invalid_yaml_is_located_at_the_parser_mark(tmp_path: Path) -> None:
    path = write(tmp_path, "a: 1\nb: [1, 2\nc: 3\n")
    [problem] = read_yaml(path).problems
    assert (problem.line, problem.col) == (3, 2)
    assert problem.message == (
        "invalid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence on line 2)"
    )


def test_bad_indentation_is_invalid_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "a:\n  b: 1\n c: 2\n")
    assert messages(path) == [
        "doc.yaml:3:2: invalid YAML: expected <block end>, but found '<block mapping start>'"
        " (while parsing a block mapping on line 1)"
    ]


@pytest.mark.parametrize(
    ("text", "got"),
    [("- a\n- b\n", "a list"), ("just text\n", "the single value 'just text'"), ("", "nothing")],
)
def test_the_top_level_must_be_a_mapping(tmp_path: Path, text: str, got: str) -> None:
    [problem] = read_yaml(write(tmp_path, text)).problems
    assert problem.message.startswith(f"must be a mapping of key: value lines, got {got}")
    assert (problem.line, problem.col) == (1, 1)


def test_a_missing_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    assert messages(path) == ["nope.yaml:1:1: cannot read the file (No such file or directory)"]


def test_a_folder_is_not_a_readable_file(tmp_path: Path) -> None:
    (tmp_path / "dir.yaml").mkdir()
    assert messages(tmp_path / "dir.yaml") == ["dir.yaml:1:1: cannot read the file (Is a directory)"]


def test_non_utf8_bytes_are_located(tmp_path: Path) -> None:
    path = tmp_path / "doc.yaml"
    path.write_bytes(b"a: 1\nb: caf\xe9\n")
    assert messages(path) == ["doc.yaml:2:7: file is not valid UTF-8 text (save it as UTF-8)"]


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "doc.yaml"
    path.write_bytes("\ufeffa: café\n".encode())
    assert load_yaml(path)[0] == {"a": "café"}


def test_control_characters_are_located(tmp_path: Path) -> None:
    path = write(tmp_path, "a: 1\nb: x\x00y\n")
    assert messages(path) == ["doc.yaml:2:5: invalid YAML: character U+0000 is not allowed"]


def test_a_date_that_does_not_exist_stays_text(tmp_path: Path) -> None:
    assert load_yaml(write(tmp_path, "d: 2026-13-45\n"))[0] == {"d": "2026-13-45"}


def test_every_problem_in_the_file_is_collected(tmp_path: Path) -> None:
    text = "a: 1\na: 2\nb: !!str x\nc: &y 3\nd: *y\n1: z\n"
    problems = read_yaml(write(tmp_path, text)).problems
    assert [(p.line, p.field) for p in problems] == [(2, "a"), (3, "b"), (4, "c"), (5, "d"), (6, "")]


def test_load_yaml_raises_with_every_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "a: 1\na: 2\nb: !!str x\n")
    with pytest.raises(ContentError) as caught:
        load_yaml(path)
    assert [p.line for p in caught.value.problems] == [2, 3]
    assert str(caught.value).count("\n") == 1


def test_an_empty_source_map_locates_the_start_of_the_file() -> None:
    assert SourceMap("x.yaml", {}).locate(("subject",)) == (1, 1)


def test_tagged_and_aliased_keys_are_refused_and_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, "!!str a: 1\nb: &k x\n? *k\n: 2\nc: 3\n")
    assert messages(path) == [
        "doc.yaml:1:1: YAML tags (!!str) are not allowed; write a plain value",
        "doc.yaml:2:4: b: YAML anchors (&k) are not allowed; write the value out",
        "doc.yaml:3:3: YAML aliases (*k) are not allowed; write the value out",
    ]
    assert read_yaml(path).data == {"b": None, "c": 3}  # refused values are dropped


def test_absurd_nesting_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = write(tmp_path, "a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert messages(path) == ["doc.yaml:1:1: invalid YAML: lists or mappings are nested too deeply"]
