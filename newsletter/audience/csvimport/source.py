"""Reading a subscriber CSV as a stream: checked text, the header's column map, one checked row at a time.

Nothing in the file can make reading throw anything but a one-line `ImportFileError` (the file as a
whole cannot be read: not UTF-8, a broken quote, a header too wide). A row that cannot be imported
(a control character, a cell too long, too many cells, a bad address or name) becomes a reject with
its line number and a reason. The file may be a pipe (`/dev/stdin`): it is read once, never sought.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from newsletter.audience.addresses import InvalidAddress, normalise_email
from newsletter.audience.csv_cells import unescape_cell
from newsletter.db.tables import NAME_LENGTH
from newsletter.errors import ImportFileError

EMAIL_HEADERS = ("email", "e-mail", "email address", "email_address", "e-mail address")
NAME_HEADERS = ("name", "full name", "full_name")
EXPORT_ONLY_HEADERS = ("status", "subscribed_at")
"""Columns `export` writes about the membership, not the person: ignored on import."""
ATTRIBUTE_PREFIX = "attribute:"
"""How `export` names an attribute that clashes with its own columns; stripped on import."""
MAX_COLUMNS = 500
"""Named columns a header may have (each attribute is a column of the import's scratch table)."""
MAX_CELL = 10_000
"""Characters a cell of an imported row may have; a longer one rejects its row."""
MAX_READABLE_CELL = 16 * 1024 * 1024
"""Characters the CSV reader holds for one cell. A longer one cannot be skipped safely (the reader
would lose its place inside the quotes), so it refuses the file: usually a quote never closed."""
_UNWANTED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_UNDECODED = re.compile("[\udc80-\udcff]")
"""Control characters other than tab, CR and LF (C0, DEL, C1), and the surrogates that stand for
bytes that are not UTF-8 (the file is decoded with surrogateescape, so a bad byte is found per row)."""


class Row(NamedTuple):
    """One data row: `line` is its first line in the file (the header is line 1).

    A named tuple, not a dataclass: a million of these are made per million-row file, and a
    tuple is built in C (a frozen dataclass sets each field through object.__setattr__).
    """

    line: int
    raw_email: str
    email: str | None
    name: str | None
    values: tuple[str | None, ...]
    error: str | None


@dataclass(frozen=True)
class Columns:
    """The column map of a subscriber CSV: which column holds what; every other named column is an attribute.

    This is the row → record seam: `row()` turns one row's cells into a `Row`. A mapping for another
    export format (status columns, tags, merge fields) is another class with the same `attribute_keys`
    and `row()`, chosen from the header by `CsvSource`'s `columns` argument.
    """

    email: int
    name: int | None
    attributes: tuple[tuple[int, str], ...]
    width: int

    @classmethod
    def from_header(cls, path: Path, cells: list[str]) -> Columns:
        """The map of a header row; ImportFileError if it has no email column or repeats a name."""
        names = [cell.strip().lower() for cell in cells]
        email = next((i for i, name in enumerate(names) if name in EMAIL_HEADERS), None)
        if email is None:
            found = ", ".join(repr(cell.strip()) for cell in cells)
            raise ImportFileError(f"{path}: the header row has no email column (found: {found})")
        seen = [name for name in names if name]
        duplicates = sorted({name for name in seen if seen.count(name) > 1})
        if duplicates:
            raise ImportFileError(f"{path}: the header row repeats column(s) {', '.join(duplicates)}")
        name = next((i for i, n in enumerate(names) if n in NAME_HEADERS), None)
        attributes = tuple(
            (i, n.removeprefix(ATTRIBUTE_PREFIX).replace(" ", "_"))
            for i, n in enumerate(names)
            if n and i not in (email, name) and n not in EXPORT_ONLY_HEADERS
        )
        return cls(email=email, name=name, attributes=attributes, width=len(cells))

    @property
    def attribute_keys(self) -> tuple[str, ...]:
        """The attribute names, in the order of each row's `values`."""
        return tuple(key for _, key in self.attributes)

    def row(self, line: int, cells: list[str]) -> Row:
        """One data row checked: the normalised address, name and attribute values, or the error."""
        width = self.width
        error = None
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        elif len(cells) > width and any(cell.strip() for cell in cells[width:]):
            error = f"the row has {len(cells):,} cells but the header has {width:,}"
        raw_email = cells[self.email].strip()
        name = None if self.name is None else _clean(cells[self.name])
        if error is None and name is not None and len(name) > NAME_LENGTH:
            error = f"the name is longer than {NAME_LENGTH} characters"
        email = None
        if error is None:
            email, error = _email(unescape_cell(raw_email))
        values = tuple([_clean(cells[index]) for index, _ in self.attributes])
        return Row(line, raw_email, email, name, values, error)

    def reject(self, line: int, cells: list[str], reason: str) -> Row:
        """A row refused before its cells were read (control characters, a cell too long)."""
        raw = cells[self.email].strip() if self.email < len(cells) else ""
        return Row(line, printable(raw[:MAX_CELL]), None, None, (), reason)

    def column_name(self, index: int) -> str:
        """How a reason names the column at `index`."""
        if index == self.email:
            return "email"
        if index == self.name:
            return "name"
        named = dict(self.attributes)
        return named.get(index, f"number {index + 1}")


class CsvSource:
    """A CSV file read once, as a context manager: the header on entry, then `rows()`.

    `bytes_read` and `size` tell how far reading has got (`size` is 0 when unknown: a pipe);
    `attribute_keys` name the values in each row's `values`.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = 0
        self.regular = False

    def __enter__(self) -> CsvSource:
        try:
            handle = self.path.open("rb", buffering=0)
        except OSError as exc:
            raise ImportFileError(f"{self.path}: cannot read the file ({exc.strerror})") from None
        info = os.fstat(handle.fileno())
        self.regular = stat.S_ISREG(info.st_mode)
        self.size = info.st_size if self.regular else 0
        self._counted = _Counted(handle)
        self._text = io.TextIOWrapper(
            io.BufferedReader(self._counted), encoding="utf-8-sig", errors="surrogateescape", newline=""
        )
        # Process-wide in the csv module: raised (never lowered) so a long cell is read and rejected.
        csv.field_size_limit(max(csv.field_size_limit(), MAX_READABLE_CELL))
        self._reader = csv.reader(self._text, strict=True)
        try:
            self.columns = self._header()
        except BaseException:
            self._text.close()
            raise
        self.attribute_keys = self.columns.attribute_keys
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._text.close()

    @property
    def bytes_read(self) -> int:
        """How much of the file has been read (to the read-ahead buffer)."""
        return self._counted.count

    def rows(self) -> Iterator[Row]:
        """Every non-blank data row, checked; a file that cannot be read at all raises ImportFileError."""
        reader, columns, unwanted = self._reader, self.columns, _UNWANTED
        previous = reader.line_num
        while (cells := self._next(previous + 1)) is not None:
            line, previous = previous + 1, reader.line_num
            text = "".join(cells)
            if not text.strip():  # a blank row
                continue
            if len(text) > MAX_CELL or (not text.isprintable() and unwanted.search(text)):
                reason = self._refusal(line, cells, text)
                if reason is not None:
                    yield columns.reject(line, cells, reason)
                    continue
            yield columns.row(line, cells)

    def _header(self) -> Columns:
        cells = self._next(1)
        if cells is None:
            raise ImportFileError(
                f"{self.path}: the file is empty; expected a header row with an email column"
            )
        if _UNDECODED.search(text := "".join(cells)):
            raise ImportFileError(self._not_utf8(1, text))
        for index, cell in enumerate(cells):
            if len(cell) > MAX_CELL or (found := _UNWANTED.search(cell)):
                what = f"control character U+{ord(found[0]):04X}" if found else f"{len(cell):,} characters"
                raise ImportFileError(
                    f"{self.path}: line 1: header cell {index + 1} is not a column name ({what})"
                )
        named = sum(1 for cell in cells if cell.strip())
        if named > MAX_COLUMNS:
            raise ImportFileError(
                f"{self.path}: line 1: the header row names {named:,} columns; at most {MAX_COLUMNS} "
                "can be imported (remove the columns you do not need)"
            )
        return Columns.from_header(self.path, cells)

    def _refusal(self, line: int, cells: list[str], text: str) -> str | None:
        """Why a row with an unwanted character or a long cell is refused (None: it is not)."""
        if _UNDECODED.search(text):
            raise ImportFileError(self._not_utf8(line, text))
        for index, cell in enumerate(cells):
            found = _UNWANTED.search(cell)
            if found is not None:
                column = self.columns.column_name(index)
                return f"control character U+{ord(found[0]):04X} in column {column!r}"
        for index, cell in enumerate(cells):
            if len(cell) > MAX_CELL:
                column = self.columns.column_name(index)
                return (
                    f"the cell in column {column!r} has {len(cell):,} characters; "
                    f"at most {MAX_CELL:,} are imported"
                )
        return None

    def _next(self, first_line: int) -> list[str] | None:
        """The next row of cells (from `first_line`), None at the end; file errors as ImportFileError."""
        try:
            return next(self._reader, None)
        except csv.Error as exc:
            line = self._reader.line_num
            if str(exc) == "unexpected end of data":
                message = f"the file ends inside a quoted cell opened on line {first_line}"
            elif str(exc).startswith("field larger than field limit"):
                message = f"a cell longer than {MAX_READABLE_CELL:,} characters (is a quote never closed?)"
            else:
                message = str(exc)
            raise ImportFileError(f"{self.path}: line {line}: {message}") from None

    def _not_utf8(self, line: int, cell: str) -> str:
        if self.regular:
            return _not_utf8(self.path)
        found = _UNDECODED.search(cell)
        byte = ord(found[0]) - 0xDC00 if found else 0
        return (
            f"{self.path}: line {line} is not UTF-8 text (byte 0x{byte:02x}); "
            "save the file as UTF-8 and import it again"
        )


class _Counted(io.RawIOBase):
    """A raw binary file that counts the bytes read from it (a pipe cannot tell its position)."""

    def __init__(self, raw: io.RawIOBase | io.FileIO) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int | None:  # type: ignore[override]
        size = self._raw.readinto(buffer)
        if size:
            self.count += size
        return size

    def close(self) -> None:
        self._raw.close()
        super().close()


def _not_utf8(path: Path) -> str:
    """Name the first line that is not UTF-8 (read again: errors are rare, reading is not)."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return (
                    f"{path}: line {number} is not UTF-8 text "
                    f"(byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
                    "save the file as UTF-8 and import it again"
                )
    return f"{path}: the file is not UTF-8 text; save it as UTF-8 and import it again"


def printable(text: str) -> str:
    """`text` with each control character written as an escape (\\x07), for a rejects file."""
    return _UNWANTED.sub(lambda found: f"\\x{ord(found[0]):02x}" if ord(found[0]) < 256 else "\ufffd", text)


def _email(raw: str) -> tuple[str | None, str | None]:
    if not raw:
        return None, "no email address"
    try:
        return normalise_email(raw), None
    except InvalidAddress as exc:
        return None, f"invalid email address: {exc.detail}"


def _clean(cell: str) -> str | None:
    value = cell.strip()
    if value.startswith("'"):
        value = unescape_cell(value)
    return value or None
