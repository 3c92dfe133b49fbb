"""In-process fan-out of durable events to live subscribers.

Theory of operation: the runner publishes a batch of records after it is
committed.  Each subscriber owns a bounded trio memory channel; ``publish`` puts
the batch into every channel with ``send_nowait`` and never waits.  A subscriber
whose buffer is full is dropped from the live feed (its channel is closed): it
sees ``EndOfChannel``, reads what it missed from the database by seq, and
subscribes again.  So a slow reader costs at most ``buffer`` batches of memory,
never slows the publisher, and never loses an event (the database has them all).

Other processes' events arrive as :class:`Wake` hints (from NOTIFY): "the log of
this session now reaches ``last_seq``", and the subscriber reads from the database.
One ticker offers every subscriber a :class:`Tick` each heartbeat interval, so a
stream waits on its channel alone, with no timer (cancel scope) of its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import trio

from livesim.eventlog import LogRecord


@dataclass(frozen=True, slots=True)
class Batch:
    """Committed records with their SSE frames, rendered once for every subscriber."""

    records: tuple[LogRecord, ...]
    frames: tuple[str, ...]

    @classmethod
    def of(cls, records: tuple[LogRecord, ...]) -> Batch:
        return cls(records, tuple(record.sse_frame() for record in records))


@dataclass(frozen=True, slots=True)
class Wake:
    """The session's log now reaches ``last_seq`` (events may be in the DB only)."""

    last_seq: int


@dataclass(frozen=True, slots=True)
class Tick:
    """Heartbeat time: one shared ticker for all streams, so no stream needs a timer."""


TICK = Tick()
Item = Batch | Wake | Tick


class Subscription:
    """One subscriber's live feed of one session."""

    def __init__(self, session_id: str, buffer: int, fanout: Fanout) -> None:
        self.session_id = session_id
        self._fanout = fanout
        self._send, self.receive = trio.open_memory_channel[Item](buffer)
        self.overflowed = False

    def offer(self, item: Item) -> None:
        """Deliver without waiting; on a full buffer, end this feed (see module doc)."""
        try:
            self._send.send_nowait(item)
        except trio.WouldBlock:
            self.overflowed = True
            self._fanout.overflows += 1
            self._send.close()
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            # closed after an overflow, or the subscriber has left
            pass

    def close(self) -> None:
        self._send.close()
        self.receive.close()


class Fanout:
    """Live subscribers by session; publishing never blocks."""

    def __init__(self, buffer: int = 1024) -> None:
        self.buffer = buffer
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)
        self.overflows = 0  # live feeds cut for a full buffer (their readers caught up from the DB)

    @contextmanager
    def subscribe(self, session_id: str) -> Iterator[Subscription]:
        """Receive the session's batches from now on, until the ``with`` block ends."""
        subscription = Subscription(session_id, self.buffer, self)
        self._subscribers[session_id].add(subscription)
        try:
            yield subscription
        finally:
            subscription.close()
            subscribers = self._subscribers.get(session_id)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscribers[session_id]

    def publish(self, session_id: str, records: tuple[LogRecord, ...]) -> None:
        """Offer committed ``records`` to every live subscriber of the session."""
        subscriptions = tuple(self._subscribers.get(session_id, ()))
        if subscriptions:
            batch = Batch.of(records)
            for subscription in subscriptions:
                subscription.offer(batch)

    def wake(self, session_id: str, last_seq: int) -> None:
        """Tell the session's subscribers the log reaches ``last_seq``."""
        for subscription in tuple(self._subscribers.get(session_id, ())):
            subscription.offer(Wake(last_seq))

    def tick(self) -> None:
        """Offer a heartbeat tick to every subscriber of every session."""
        for subscriptions in tuple(self._subscribers.values()):
            for subscription in tuple(subscriptions):
                subscription.offer(TICK)

    async def run_heartbeat(self, interval_s: float) -> None:
        """Tick every ``interval_s`` until cancelled."""
        while True:
            await trio.sleep(interval_s)
            self.tick()

    def subscriber_count(self, session_id: str | None = None) -> int:
        if session_id is not None:
            return len(self._subscribers.get(session_id, ()))
        return sum(len(s) for s in self._subscribers.values())
