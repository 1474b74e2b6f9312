"""Importing subscribers from CSV into a list: streamed, validated, merged, idempotent, in chunked upserts."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TypeVar

from sqlalchemy.orm import Session

from newsletter.audience.csv_cells import escape_cell
from newsletter.audience.csvimport.one_ahead import OneAhead
from newsletter.audience.csvimport.source import CsvSource
from newsletter.audience.csvimport.staging import Record, Staging
from newsletter.audience.csvimport.upsert import ChunkWriter, Outcome
from newsletter.audience.people.lists import get_list
from newsletter.errors import ImportFileError

ProgressCallback = Callable[[str, int, int], None]
"""Called as (phase, done, total): 'reading' counts bytes of the file, 'saving' counts addresses."""

READ_BATCH = 5_000
CHUNK = 5_000
T = TypeVar("T")


@dataclass
class ImportReport:
    """What an import did, row by row: rows = added + updated + unchanged + merged + rejected + suppressed."""

    file: Path
    list_name: str
    rejects_path: Path
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    rejected: int = 0
    suppressed: int = 0

    def count(self, record: Record, outcome: Outcome) -> None:
        """Count one merged record: its first row has the outcome, later rows were merged."""
        if outcome == "suppressed":
            self.suppressed += len(record.lines)
            return
        setattr(self, outcome, getattr(self, outcome) + 1)
        self.merged += len(record.lines) - 1


def default_rejects_path(path: Path, *, regular: bool = True) -> Path:
    """Where rejects go when no --rejects is given: beside the file, e.g. members.rejects.csv.

    For a pipe or device (`/dev/stdin`) it is the working directory: stdin.rejects.csv.
    """
    name = f"{path.stem}.rejects.csv"
    return path.with_name(name) if regular else Path(name)


def import_csv(
    session: Session,
    path: Path,
    list_name: str,
    *,
    rejects_path: Path | None = None,
    progress: ProgressCallback | None = None,
    chunk_size: int = CHUNK,
) -> ImportReport:
    """Import a CSV (header row; an email column; `name`; other columns become attributes).

    The `status` and `subscribed_at` columns that `export` writes are ignored, and its
    `attribute:` prefix is removed, so an exported file imports back to the same people.

    Rows repeating an address are merged: the name and each attribute come from the last row
    that has a value. Existing subscribers keep values the file leaves empty. Suppressed
    addresses and members who unsubscribed from the list are reported, never re-added; members
    still awaiting confirmation stay unconfirmed. New memberships are active, with consent
    evidence (method "import", source the file name).
    Importing the same file again changes nothing. Commits after each chunk; if one fails, it is
    rolled back and the error raised (earlier chunks stay: importing the file again completes it).
    """
    mailing_list = get_list(session, list_name)
    notify = progress or (lambda _phase, _done, _total: None)
    with CsvSource(Path(path)) as source, Staging(source.attribute_keys) as staging:
        report = ImportReport(
            file=source.path,
            list_name=mailing_list.name,
            rejects_path=rejects_path or default_rejects_path(source.path, regular=source.regular),
        )
        _check_writable(report.rejects_path)
        for rows in _batches(source.rows(), READ_BATCH):
            staging.add(rows)
            report.rows += len(rows)
            notify("reading", source.bytes_read, source.size)
        report.rejected = staging.count("rejects")
        writer = ChunkWriter(session, mailing_list, source.path.name)
        try:
            _save(writer, staging, report, notify, chunk_size)
        except BaseException:
            session.rollback()  # the failed chunk is undone; earlier chunks stay committed
            raise
        finally:
            writer.close()
        _write_rejects(report.rejects_path, staging.rejects())
    return report


def _save(
    writer: ChunkWriter,
    staging: Staging,
    report: ImportReport,
    notify: ProgressCallback,
    chunk_size: int,
) -> None:
    total, done = staging.distinct_addresses(), 0
    notify("saving", 0, total)
    with OneAhead(background=writer.separate_reader) as writes:
        for chunk in _batches(staging.records(), chunk_size):
            plan = writer.plan(chunk)
            writes.submit(writer.apply, plan)
            for record, decision in zip(chunk, plan.decisions, strict=True):
                report.count(record, decision.kind)
                if decision.reason:
                    staging.reject((line, record.email, decision.reason) for line in record.lines)
            done += len(chunk)
            notify("saving", done, total)


def _check_writable(path: Path) -> None:
    """Refuse before reading the file if its rejects could not be written at the end."""
    folder = path.parent if str(path.parent) else Path()
    if (path.exists() and not os.access(path, os.W_OK)) or not os.access(folder, os.W_OK | os.X_OK):
        raise ImportFileError(f"{path}: cannot write the rejects file here; name another with --rejects")


def _write_rejects(path: Path, rejects: Iterable[tuple[int, str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["row", "email", "reason"])
        for line, email, reason in rejects:
            writer.writerow([line, escape_cell(email), escape_cell(reason)])


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
