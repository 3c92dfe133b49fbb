"""Where a runner writes its log: PostgreSQL, or memory for fake-clock tests.

Every write names the runner's :class:`Lease` and is refused (:class:`LostOwnership`)
unless the session is still live and owned under that lease: the fencing check is
part of the write itself, never a check made earlier on another connection.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import trio

from livesim.db.bridge import Database
from livesim.errors import Unavailable
from livesim.eventlog import LogRecord
from livesim.status import LIVE, LIVE_VALUES, SessionStatus

if TYPE_CHECKING:
    from livesim.runner.group_commit import GroupCommit


@dataclass(frozen=True, slots=True)
class Lease:
    """The right to write one session's log: its owning process and ownership epoch."""

    owner: str
    epoch: int


class LostOwnership(Exception):
    """The session is no longer this runner's to write (taken over, or already ended)."""


@dataclass(frozen=True, slots=True)
class RecordedInput:
    """An outside input as recorded: its kind, wire body and the candle it acts at."""

    kind: str
    body: dict[str, Any]
    candle_index: int


class EventStore(Protocol):
    """What a runner needs from storage; every write is idempotent by seq and fenced."""

    async def last_seq(self, session_id: str) -> int: ...

    async def recorded_inputs(self, session_id: str) -> list[RecordedInput]: ...

    async def claim_inputs(self, session_id: str, lease: Lease, candle_index: int
                           ) -> list[RecordedInput]: ...

    async def append(self, session_id: str, lease: Lease,
                     records: Sequence[LogRecord]) -> None: ...

    async def append_terminal(self, session_id: str, lease: Lease,
                              records: Sequence[LogRecord], status: SessionStatus,
                              error: dict[str, Any] | None) -> None: ...


def batch_params(session_id: str, lease: Lease, records: Sequence[LogRecord]
                  ) -> dict[str, Any]:
    return {"session_id": session_id, "owner": lease.owner, "epoch": lease.epoch,
            "live": LIVE_VALUES, "seqs": [r.seq for r in records],
            "tss": [r.ts for r in records], "types": [r.type for r in records],
            "payloads": [r.payload_json for r in records], "last_seq": records[-1].seq}


Batch = tuple[str, Lease, Sequence[LogRecord]]  # session id, lease, records


def batches_params(batches: Sequence[Batch]) -> dict[str, Any]:
    """``append-events`` parameters for one batch or a group of them."""
    events = [(session_id, record) for session_id, _, records in batches
              for record in records]
    return {
        "live": LIVE_VALUES,
        "session_ids": [session_id for session_id, _, _ in batches],
        "owners": [lease.owner for _, lease, _ in batches],
        "epochs": [lease.epoch for _, lease, _ in batches],
        "last_seqs": [records[-1].seq for _, _, records in batches],
        "event_sessions": [session_id for session_id, _ in events],
        "seqs": [record.seq for _, record in events],
        "tss": [record.ts for _, record in events],
        "types": [record.type for _, record in events],
        "payloads": [record.payload_json for _, record in events],
    }


async def append_alone(db: Database, session_id: str, lease: Lease,
                       records: Sequence[LogRecord]) -> None:
    """One batch in a fenced statement of its own."""
    if not await db.run("append-events", **batches_params([(session_id, lease, records)])):
        raise LostOwnership(session_id)


class PgEventStore:
    """The log in ``sim_events``; writes are shielded so no candle is half-written.

    With a ``group``, batches are written with other runners' (group commit, see
    :mod:`livesim.runner.group_commit`); without, each in a statement of its own.
    """

    def __init__(self, db: Database, group: GroupCommit | None = None) -> None:
        self._db = db
        self._group = group

    async def last_seq(self, session_id: str) -> int:
        value: int = await self._db.run("last-seq", session_id=session_id)
        return value

    async def recorded_inputs(self, session_id: str) -> list[RecordedInput]:
        rows = await self._db.run("recorded-inputs", session_id=session_id)
        return [_recorded(row) for row in rows]

    async def claim_inputs(self, session_id: str, lease: Lease, candle_index: int
                           ) -> list[RecordedInput]:
        with trio.CancelScope(shield=True):
            rows = await self._db.run("claim-inputs", session_id=session_id, owner=lease.owner,
                                      epoch=lease.epoch, live=LIVE_VALUES,
                                      candle_index=candle_index)
        return [_recorded(row) for row in sorted(rows, key=lambda row: row["id"])]

    async def append(self, session_id: str, lease: Lease,
                     records: Sequence[LogRecord]) -> None:
        with trio.CancelScope(shield=True):
            if self._group is not None:
                await self._group.append(session_id, lease, records)
            else:
                await append_alone(self._db, session_id, lease, records)

    async def append_terminal(self, session_id: str, lease: Lease,
                              records: Sequence[LogRecord], status: SessionStatus,
                              error: dict[str, Any] | None) -> None:
        with trio.CancelScope(shield=True):
            row = await self._db.run(
                "append-terminal-events", **batch_params(session_id, lease, records),
                status=status.value, error=None if error is None else json.dumps(error))
            if row["owned"]:
                return
            # A retry of a terminal write that did commit (its answer was lost in an
            # outage) finds the session ended; the log shows whether that was us.
            if await self.last_seq(session_id) >= records[-1].seq:
                return
        raise LostOwnership(session_id)


def _recorded(row: Any) -> RecordedInput:
    return RecordedInput(row["kind"], json.loads(row["body"]), row["candle_index"])


class MemoryEventStore:
    """An in-memory log with the same idempotent, fenced semantics, for MockClock tests.

    ``epoch`` is the current ownership epoch of each session (1 unless a test takes a
    session over); ``outages`` makes the next that many writes fail as unavailable.
    """

    def __init__(self) -> None:
        self.records: dict[str, dict[int, LogRecord]] = {}
        self.status: dict[str, SessionStatus] = {}
        self.error: dict[str, dict[str, Any] | None] = {}
        self.epoch: dict[str, int] = {}
        self.writes = 0
        self.outages = 0
        self.inputs: dict[str, list[RecordedInput]] = {}
        self.pending_inputs: dict[str, list[tuple[str, dict[str, Any]]]] = {}

    async def last_seq(self, session_id: str) -> int:
        await self._reach()
        return max(self.records.get(session_id, {}), default=0)

    async def recorded_inputs(self, session_id: str) -> list[RecordedInput]:
        await self._reach()
        return sorted(self.inputs.get(session_id, []), key=lambda i: i.candle_index)

    async def claim_inputs(self, session_id: str, lease: Lease, candle_index: int
                           ) -> list[RecordedInput]:
        await self._reach()
        self._fence(session_id, lease)
        claimed = [RecordedInput(kind, body, candle_index)
                   for kind, body in self.pending_inputs.pop(session_id, [])]
        self.inputs.setdefault(session_id, []).extend(claimed)
        return claimed

    async def append(self, session_id: str, lease: Lease,
                     records: Sequence[LogRecord]) -> None:
        await self._reach()
        self._fence(session_id, lease)
        self.writes += 1
        log = self.records.setdefault(session_id, {})
        for record in records:
            log.setdefault(record.seq, record)

    async def append_terminal(self, session_id: str, lease: Lease,
                              records: Sequence[LogRecord], status: SessionStatus,
                              error: dict[str, Any] | None) -> None:
        await self.append(session_id, lease, records)
        self.status[session_id] = status
        self.error[session_id] = error

    async def _reach(self) -> None:
        await trio.lowlevel.checkpoint()
        if self.outages > 0:
            self.outages -= 1
            raise Unavailable("the database is unreachable", code="database_unavailable")

    def _fence(self, session_id: str, lease: Lease) -> None:
        live = self.status.get(session_id, SessionStatus.RUNNING) in LIVE
        if not live or self.epoch.get(session_id, 1) != lease.epoch:
            raise LostOwnership(session_id)

    def log(self, session_id: str) -> list[LogRecord]:
        return [record for _, record in sorted(self.records.get(session_id, {}).items())]
