"""One database reader per session for the streams of sessions run elsewhere.

When a session runs in this process, its runner publishes each committed batch to
the fan-out and every stream takes the frames rendered once.  When it runs in
another process, all that arrives is the NOTIFY of each commit
(``<session>:<last_seq>``).  Sending every stream to read the database for itself
makes a query per stream per commit: 5,000 streams of one session at 2 commits a
second would be 10,000 queries a second.  The relay reads each commit once and
publishes it through the fan-out as a local runner would.

The relay reads ``(relayed, last_seq]``, in order, with one reader task per
session.  At the first wake-up it sees for a session it starts where the
furthest-behind local stream stands (each subscription carries its stream's next
seq), at most a page back, so even that commit is read once for all streams, not
once per stream (5,000 streams woken at once queue seconds behind the pool).  A
stream behind or ahead of the relay sees a gap in seq and reads the database
itself, so the relay only saves queries: it is never the only way an event reaches
a stream.  After an outage, or when no stream is left, the relay forgets the
session and starts over.
"""

from __future__ import annotations

import logging

import trio

from livesim.bus.fanout import EVERYTHING, Fanout
from livesim.db.bridge import Database
from livesim.errors import Unavailable
from livesim.eventlog import record_from_row

LOGGER = logging.getLogger(__name__)
# Rows per read: one commit of a paced session is a few events; an unpaced one ~2,000.
PAGE_EVENTS = 2_000


class Relay:
    """Reads other processes' commits once for all local streams; run :meth:`run` first."""

    def __init__(self, db: Database, fanout: Fanout) -> None:
        self._db = db
        self._fanout = fanout
        self._relayed: dict[str, int] = {}  # the last seq published here, by session
        self._target: dict[str, int] = {}  # the last seq known committed
        self._reading: set[str] = set()
        self._nursery: trio.Nursery | None = None
        self.reads = 0  # database reads made (for tests and benchmarks)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
                  ) -> None:
        async with trio.open_nursery() as self._nursery:
            task_status.started()
            await trio.sleep_forever()

    def notified(self, session_id: str, last_seq: int) -> None:
        """Another process committed the session's log up to ``last_seq``."""
        if not self._fanout.has_subscribers(session_id):
            self.forget(session_id)
            return
        if session_id not in self._relayed:
            lowest = self._fanout.lowest_next_seq(session_id)
            assert lowest is not None  # it has subscribers
            start = max(lowest, last_seq - PAGE_EVENTS + 1)
            self._relayed[session_id] = self._target[session_id] = start - 1
        if last_seq <= self._target[session_id]:
            return
        self._target[session_id] = last_seq
        if session_id not in self._reading:
            assert self._nursery is not None
            self._reading.add(session_id)
            self._nursery.start_soon(self._read, session_id)

    def forget(self, session_id: str) -> None:
        self._relayed.pop(session_id, None)
        self._target.pop(session_id, None)

    def forget_all(self) -> None:
        """Positions are unknown again (wake-ups were lost while the database was away)."""
        self._relayed.clear()
        self._target.clear()

    async def _read(self, session_id: str) -> None:
        try:
            while True:
                relayed, target = self._relayed.get(session_id), self._target.get(session_id)
                if relayed is None or target is None or relayed >= target:
                    return
                rows = await self._db.run("select-events", session_id=session_id,
                                          from_seq=relayed + 1,
                                          limit=min(target - relayed, PAGE_EVENTS))
                self.reads += 1
                records = tuple(record_from_row(row) for row in rows)
                if self._relayed.get(session_id) != relayed:
                    return  # forgotten meanwhile: the streams were woken instead
                if not records:  # not expected (NOTIFY follows commit): let streams look
                    self.forget(session_id)
                    self._fanout.wake(session_id, EVERYTHING)
                    return
                self._relayed[session_id] = records[-1].seq
                self._fanout.publish(session_id, records)
                if records[-1].terminal:
                    self.forget(session_id)
        except Unavailable:
            LOGGER.warning("relay of session %s: database unavailable", session_id)
            self.forget(session_id)
            self._fanout.wake(session_id, EVERYTHING)
        finally:
            self._reading.discard(session_id)
