"""Importing a JSON-lines file of events, in chunks that each commit on their own.

A chunk is one transaction, so an import that dies part-way keeps the chunks it
committed; run again, the events that carry a client_event_id read as duplicates and
nothing is stored twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tenure.db.session import unit_of_work
from tenure.db.statistics import analyze_after_load
from tenure.timeline.append import append_events
from tenure.validation import parse_json

# 5,000 events is about 2 MB of parsed JSON: large enough to amortise the commit,
# small enough that a crash loses little work.
CHUNK_SIZE = 5_000


@dataclass(frozen=True)
class RejectedLine:
    line: int
    field: str
    reason: str


@dataclass
class JsonlReport:
    lines: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejections: list[RejectedLine] = field(default_factory=list)


#: What an events import fills (people and identities: events by email create people).
TIMELINE_TABLES = ("events", "event_items", "people", "identities", "person_stages")


def import_events_jsonl(
    *,
    path: Path,
    session_factory: sessionmaker[Session],
    actor_id: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    on_progress: Callable[[int], object] | None = None,
) -> JsonlReport:
    report = JsonlReport()
    chunk: list[Any] = []
    chunk_lines: list[int] = []

    def flush() -> None:
        if not chunk:
            return
        with unit_of_work(session_factory) as session:
            # The pipeline's reactions run in the chunk's transaction: its people only.
            result = append_events(session=session, raw_items=chunk, actor_id=actor_id)
        report.imported += result.stored
        report.duplicates += len(result.duplicates)
        report.rejected += len(result.rejected)
        for item in result.rejected:
            for problem in item.errors:
                report.rejections.append(
                    RejectedLine(chunk_lines[item.index], problem.field, problem.reason)
                )
        chunk.clear()
        chunk_lines.clear()

    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            report.lines += 1
            try:
                chunk.append(parse_json(raw))
                chunk_lines.append(number)
            except ValueError as error:
                report.rejected += 1
                report.rejections.append(RejectedLine(number, "(line)", f"invalid JSON: {error}"))
            if len(chunk) >= chunk_size:
                flush()
                if on_progress:
                    on_progress(handle.tell())
        flush()
        if on_progress:
            on_progress(handle.tell())
    report.rejections.sort(key=lambda r: r.line)
    if report.imported:
        analyze_after_load(session_factory, TIMELINE_TABLES)
    return report
