"""Group commit: the batches of many runners written in one fenced statement.

A paced session writes a small batch per candle.  A thousand sessions at 60-200x
make two thousand such writes a second, and one statement each (a bridge crossing,
a round trip, a WAL flush) is more than one process and one database keep up with:
measured, 1,000 sessions fell 15 s behind their schedule at 98% of a core.

So runners hand their batches to their process's :class:`GroupCommit`.  A few
writer tasks each take every batch waiting (up to :data:`MAX_GROUP_EVENTS` events)
and write them in one statement, ``append-events``, while the next group
gathers behind.  Nothing about the log changes:

* Each batch is fenced exactly as the runner's own statement fences it (the
  session row locked, owner, epoch and liveness checked) and each session gets its
  own answer: written, or :class:`~livesim.runner.store.LostOwnership`.
* A runner has at most one batch in flight, so a group never holds two batches of
  one session, and a session's batches land in order.
* An outage fails the whole group as ``Unavailable``; each runner retries its own
  batch, which inserts nothing if it had landed.
* Any other error fails the group's statement but not its sessions: the batches
  are then written one at a time, so only a batch that is itself bad fails.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import trio

from livesim.db.bridge import Database
from livesim.errors import Unavailable
from livesim.eventlog import LogRecord
from livesim.runner.store import Lease, LostOwnership, append_alone, batches_params

LOGGER = logging.getLogger(__name__)
# A group stops taking batches past this many events (an unpaced batch is ~2,000).
MAX_GROUP_EVENTS = 10_000
# Statements in flight at once: one commits while the next is sent.
WRITERS = 2


@dataclass(eq=False)
class _Batch:
    session_id: str
    lease: Lease
    records: Sequence[LogRecord]
    done: trio.Event = field(default_factory=trio.Event)
    error: Exception | None = None

    def finish(self, error: Exception | None = None) -> None:
        self.error = error
        self.done.set()


class GroupCommit:
    """Writes runners' batches in groups; run :meth:`run` in a nursery first."""

    def __init__(self, db: Database, *, max_group_events: int = MAX_GROUP_EVENTS) -> None:
        self._db = db
        self._max_group_events = max_group_events
        self._waiting: deque[_Batch] = deque()
        self._arrived = trio.Event()
        self._closed = False
        self.statements = 0  # group statements written (for tests and benchmarks)

    async def append(self, session_id: str, lease: Lease, records: Sequence[LogRecord]
                     ) -> None:
        """Write one batch with the next group; raises as the runner's own write would."""
        if self._closed:
            raise Unavailable("the event writer has shut down", code="database_unavailable")
        batch = _Batch(session_id, lease, records)
        self._waiting.append(batch)
        self._arrived.set()
        await batch.done.wait()
        if batch.error is not None:
            raise batch.error

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
                  ) -> None:
        try:
            async with trio.open_nursery() as nursery:
                for _ in range(WRITERS):
                    nursery.start_soon(self._write_forever)
                task_status.started()
        finally:
            # Whatever still waits is answered, so no runner waits forever.
            self._closed = True
            for batch in self._waiting:
                batch.finish(Unavailable("the event writer has shut down",
                                         code="database_unavailable"))
            self._waiting.clear()

    async def _write_forever(self) -> None:
        while True:
            while not self._waiting:
                self._arrived = trio.Event()
                await self._arrived.wait()
            group = self._take()
            with trio.CancelScope(shield=True):  # runners wait on these answers
                await self._write(group)

    def _take(self) -> list[_Batch]:
        group: list[_Batch] = []
        events = 0
        while self._waiting and (not group or events + len(self._waiting[0].records)
                                 <= self._max_group_events):
            batch = self._waiting.popleft()
            group.append(batch)
            events += len(batch.records)
        return group

    async def _write(self, group: list[_Batch]) -> None:
        try:
            rows = await self._db.run("append-events", **batches_params(
                [(batch.session_id, batch.lease, batch.records) for batch in group]))
        except Unavailable as error:
            for batch in group:
                batch.finish(error)
            return
        except Exception:
            LOGGER.exception("a group of %d batches failed; writing them one at a time",
                             len(group))
            for batch in group:
                try:
                    await append_alone(self._db, batch.session_id, batch.lease,
                                       batch.records)
                except Exception as error:
                    batch.finish(error)
                else:
                    batch.finish()
            return
        self.statements += 1
        written = {str(row["session_id"]) for row in rows}
        for batch in group:
            batch.finish(None if batch.session_id in written
                         else LostOwnership(batch.session_id))

