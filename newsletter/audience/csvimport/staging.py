"""An import's scratch space: a throw-away SQLite file that sorts rows by address, so memory stays flat."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from types import TracebackType

from newsletter.audience.addresses import email_hash
from newsletter.audience.csvimport.scratch import ScratchFolder
from newsletter.audience.csvimport.source import Row


@dataclass(slots=True)
class Record:
    """One address after merging every row of the file that names it (later values win)."""

    email: str
    hash: str
    name: str | None
    attributes: dict[str, str]
    lines: list[int] = field(default_factory=list)


class Staging:
    """Rows and rejects of one import, on disk in a SQLite file (not the database) in a scratch folder."""

    def __init__(self, attribute_keys: Sequence[str]) -> None:
        self.keys = tuple(attribute_keys)
        columns = "".join(f", a{n} TEXT" for n in range(len(self.keys)))
        self._insert_row = f"INSERT INTO rows VALUES (?, ?, ?{', ?' * len(self.keys)})"  # noqa: S608
        self._schema = f"""
            PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
            CREATE TABLE rows (line INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT{columns});
            CREATE TABLE rejects (line INTEGER NOT NULL, email TEXT NOT NULL, reason TEXT NOT NULL);
            """

    def __enter__(self) -> Staging:
        self._folder = ScratchFolder()
        folder = self._folder.__enter__()
        try:
            self._db = sqlite3.connect(folder / "staging.db")
            self._db.executescript(self._schema)
        except BaseException:
            self._folder.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._db.close()
        finally:
            self._folder.__exit__(exc_type, exc, tb)

    def add(self, rows: Iterable[Row]) -> None:
        """Keep valid rows for merging and bad ones as rejects."""
        good, bad = [], []
        for row in rows:
            if row.error is None:
                good.append((row.line, row.email, row.name, *row.values))
            else:
                bad.append((row.line, row.raw_email, row.error))
        self._db.executemany(self._insert_row, good)
        self._db.executemany("INSERT INTO rejects VALUES (?, ?, ?)", bad)

    def reject(self, rejects: Iterable[tuple[int, str, str]]) -> None:
        """Add rejects found later (line, email, reason), e.g. suppressed addresses."""
        self._db.executemany("INSERT INTO rejects VALUES (?, ?, ?)", rejects)

    def count(self, table: str) -> int:
        """How many rows ('rows') or rejects ('rejects') are kept."""
        assert table in ("rows", "rejects")
        return int(self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608

    def distinct_addresses(self) -> int:
        """How many different addresses the valid rows hold."""
        return int(self._db.execute("SELECT count(DISTINCT email) FROM rows").fetchone()[0])

    def records(self) -> Iterator[Record]:
        """Merged records in address order: the name and each attribute from the last row that has one."""
        self._db.execute("CREATE INDEX rows_email ON rows (email, line)")
        cursor = self._db.execute("SELECT * FROM rows ORDER BY email, line")
        keys, digest = self.keys, email_hash
        record: Record | None = None
        for row in cursor:
            email, values = row[1], row[3:]
            if record is not None and record.email == email:
                record.lines.append(row[0])
                record.name = row[2] or record.name
                if any(values):
                    record.attributes.update({k: v for k, v in zip(keys, values, strict=True) if v})
                continue
            if record is not None:
                yield record
            attributes = {k: v for k, v in zip(keys, values, strict=True) if v} if any(values) else {}
            record = Record(email, digest(email), row[2], attributes, [row[0]])
        if record is not None:
            yield record

    def rejects(self) -> Iterator[tuple[int, str, str]]:
        """Every reject (line, email as written, reason) in file order."""
        yield from self._db.execute("SELECT line, email, reason FROM rejects ORDER BY line, rowid")
