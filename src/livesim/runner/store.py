"""Where a runner writes its log: PostgreSQL, or memory for fake-clock tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

import trio

from livesim.db.bridge import Database, Executor
from livesim.eventlog import LogRecord

# Statuses a session can leave for each terminal status.  'stopped' may already be
# set by the control route before the runner writes session_stopped.
LIVE_STATUSES = ("created", "running", "paused")
TERMINAL_FROM = {
    "finished": (*LIVE_STATUSES, "stopped"),
    "stopped": (*LIVE_STATUSES, "stopped"),
    "failed": (*LIVE_STATUSES, "stopped"),
}


class EventStore(Protocol):
    """What a runner needs from storage; every write is idempotent by seq."""

    async def last_seq(self, session_id: str) -> int: ...

    async def append(self, session_id: str, records: Sequence[LogRecord]) -> None: ...

    async def append_terminal(self, session_id: str, records: Sequence[LogRecord],
                              status: str, error: dict[str, Any] | None) -> None: ...

    async def mark_running(self, session_id: str) -> None: ...


async def insert_records(executor: Executor, session_id: str,
                         records: Sequence[LogRecord]) -> int:
    """One idempotent statement for a batch of records; returns how many were new."""
    row = await executor.run(
        "insert-events", session_id=session_id,
        seqs=[r.seq for r in records], tss=[r.ts for r in records],
        types=[r.type for r in records], payloads=[r.payload_json for r in records],
        last_seq=records[-1].seq)
    inserted: int = row["inserted"]
    return inserted


class PgEventStore:
    """The log in ``sim_events``; writes are shielded so no candle is half-written."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def last_seq(self, session_id: str) -> int:
        value: int = await self._db.run("last-seq", session_id=session_id)
        return value

    async def append(self, session_id: str, records: Sequence[LogRecord]) -> None:
        with trio.CancelScope(shield=True):
            await insert_records(self._db, session_id, records)

    async def append_terminal(self, session_id: str, records: Sequence[LogRecord],
                              status: str, error: dict[str, Any] | None) -> None:
        with trio.CancelScope(shield=True):
            async with self._db.transaction() as tx:
                await insert_records(tx, session_id, records)
                await tx.run("set-session-status", id=session_id, status=status,
                             error=None if error is None else json.dumps(error),
                             from_statuses=list(TERMINAL_FROM[status]))

    async def mark_running(self, session_id: str) -> None:
        await self._db.run("set-session-status", id=session_id, status="running", error=None,
                           from_statuses=["created"])


class MemoryEventStore:
    """An in-memory log with the same idempotent semantics, for MockClock tests."""

    def __init__(self) -> None:
        self.records: dict[str, dict[int, LogRecord]] = {}
        self.status: dict[str, str] = {}
        self.error: dict[str, dict[str, Any] | None] = {}
        self.writes = 0

    async def last_seq(self, session_id: str) -> int:
        return max(self.records.get(session_id, {}), default=0)

    async def append(self, session_id: str, records: Sequence[LogRecord]) -> None:
        await trio.lowlevel.checkpoint()
        self.writes += 1
        log = self.records.setdefault(session_id, {})
        for record in records:
            log.setdefault(record.seq, record)

    async def append_terminal(self, session_id: str, records: Sequence[LogRecord],
                              status: str, error: dict[str, Any] | None) -> None:
        await self.append(session_id, records)
        self.status[session_id] = status
        self.error[session_id] = error

    async def mark_running(self, session_id: str) -> None:
        await trio.lowlevel.checkpoint()
        if self.status.get(session_id, "created") == "created":
            self.status[session_id] = "running"

    def log(self, session_id: str) -> list[LogRecord]:
        return [record for _, record in sorted(self.records.get(session_id, {}).items())]
