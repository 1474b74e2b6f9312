"""Reading a subscriber CSV as a stream: header mapping, UTF-8 per line, one checked row at a time."""

from __future__ import annotations

import csv
import io
import os
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
class Header:
    """Which column holds what; every other named column becomes an attribute."""

    email: int
    name: int | None
    attributes: tuple[tuple[int, str], ...]
    width: int


class CsvSource:
    """A CSV file read once, as a context manager: the header on entry, then `rows()`.

    `bytes_read` and `size` tell how far reading has got; `attribute_keys` name the values
    in each row's `values`.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = 0

    def __enter__(self) -> CsvSource:
        try:
            self._handle = self.path.open("rb")
        except OSError as exc:
            raise ImportFileError(f"{self.path}: cannot read the file ({exc.strerror})") from None
        self.size = os.fstat(self._handle.fileno()).st_size
        self._text = io.TextIOWrapper(self._handle, encoding="utf-8-sig", newline="")
        self._reader = csv.reader(self._text, strict=True)
        try:
            self.header = _header(self.path, self._guarded(self._reader))
        except BaseException:
            self._text.close()
            raise
        self.attribute_keys = tuple(key for _, key in self.header.attributes)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._text.close()

    @property
    def bytes_read(self) -> int:
        """How much of the file has been read (to the read-ahead buffer)."""
        return self._handle.tell() if not self._handle.closed else self.size

    def rows(self) -> Iterator[Row]:
        """Every non-blank data row, checked; a file that cannot be read at all raises ImportFileError."""
        reader, header = self._reader, self.header
        previous = reader.line_num
        while (cells := self._guarded(reader)) is not None:
            line, previous = previous + 1, reader.line_num
            if "".join(cells).strip():  # not a blank row
                yield _row(header, line, cells)

    def _guarded(self, reader: Iterator[list[str]]) -> list[str] | None:
        """The next row of cells, None at the end; errors of the file as ImportFileError."""
        try:
            return next(reader, None)
        except csv.Error as exc:
            raise ImportFileError(f"{self.path}: line {self._reader.line_num + 1}: {exc}") from None
        except UnicodeDecodeError:
            raise ImportFileError(_not_utf8(self.path)) from None


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


def _header(path: Path, cells: list[str] | None) -> Header:
    if cells is None:
        raise ImportFileError(f"{path}: the file is empty; expected a header row with an email column")
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
    return Header(email=email, name=name, attributes=attributes, width=len(cells))


def _row(header: Header, line: int, cells: list[str]) -> Row:
    width = header.width
    error = None
    if len(cells) < width:
        cells = cells + [""] * (width - len(cells))
    elif len(cells) > width and any(cell.strip() for cell in cells[width:]):
        error = f"the row has {len(cells)} cells but the header has {width}"
    raw_email = cells[header.email].strip()
    name = None if header.name is None else _clean(cells[header.name])
    if error is None and name is not None and len(name) > NAME_LENGTH:
        error = f"the name is longer than {NAME_LENGTH} characters"
    email = None
    if error is None:
        email, error = _email(unescape_cell(raw_email))
    values = tuple([_clean(cells[index]) for index, _ in header.attributes])
    return Row(line, raw_email, email, name, values, error)


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
