"""In-process fan-out of durable events to live subscribers.

Theory of operation: the runner publishes a batch of records after it is
committed.  Each subscriber owns a bounded buffer; ``publish`` puts the batch into
every buffer without waiting.  The bound is counted in *events* (a batch of an
unpaced replay holds up to ~2,000), so a subscriber holds at most ``buffer``
events (plus one batch) however the runner groups them.  A subscriber whose buffer would overflow
is dropped from the live feed: it sees the feed end, reads what it missed from the
database by seq, and subscribes again.  So a slow reader costs bounded memory,
never slows the publisher, and never loses an event (the database has them all).

Other processes' events arrive as :class:`Wake` hints (from NOTIFY): "the log of
this session now reaches ``last_seq``", and the subscriber reads from the database.
One ticker offers every subscriber a :class:`Tick` each heartbeat interval, so a
stream waits on its channel alone, with no timer (cancel scope) of its own.  The
ticker goes round in slices: each subscriber is ticked once an interval, at the
moment of its own slice, so 5,000 streams do not all write a heartbeat at once (a
burst that held up the commit next to it by a whole round of writes).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import trio

from livesim.eventlog import LogRecord

# Ticks and wakes take a slot each but no event; a subscriber that lets this many of
# them pile up is not reading, and is cut like one whose events overflow.
MAX_QUEUED_ITEMS = 256
# Wake(EVERYTHING): "check the database", when what is new is not known.
EVERYTHING = 2**62
# The heartbeat interval is gone round in this many slices (see the module doc).
TICK_SLICES = 16


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
    """One subscriber's live feed of one session, bounded in events."""

    def __init__(self, session_id: str, next_seq: int, max_events: int, fanout: Fanout
                 ) -> None:
        self.session_id = session_id
        self.tick_slice = fanout.next_tick_slice()
        # the first seq its stream lacks, kept up to date by the stream: where a relay
        # starting on this session begins reading (bus/relay.py)
        self.next_seq = next_seq
        self._fanout = fanout
        self._max_events = max_events
        self._queued_events = 0
        self._send, self._receive = trio.open_memory_channel[Item](
            max_events + MAX_QUEUED_ITEMS)
        self.overflowed = False

    def offer(self, item: Item) -> None:
        """Deliver without waiting; on a full buffer, end this feed (see module doc)."""
        events = len(item.records) if isinstance(item, Batch) else 0
        # An empty buffer takes one batch of any size (an unpaced batch may hold more
        # than ``buffer`` events), so the bound is buffer + one batch.
        if self._queued_events and self._queued_events + events > self._max_events:
            self._cut()
            return
        try:
            self._send.send_nowait(item)
        except trio.WouldBlock:
            self._cut()
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            # closed after an overflow, or the subscriber has left
            pass
        else:
            self._queued_events += events

    def _cut(self) -> None:
        if not self.overflowed:
            self.overflowed = True
            self._fanout.overflows += 1
        self._send.close()

    async def receive_all(self) -> tuple[list[Item], bool]:
        """Wait for at least one item; return all that are queued, and whether the feed
        has ended (cut for overflow: the caller catches up from the database)."""
        items: list[Item] = []
        ended = False
        try:
            items.append(await self._receive.receive())
            while True:
                items.append(self._receive.receive_nowait())
        except trio.WouldBlock:
            pass
        except trio.EndOfChannel:
            ended = True
        self._queued_events -= sum(len(i.records) for i in items if isinstance(i, Batch))
        return items, ended

    def close(self) -> None:
        self._send.close()
        self._receive.close()


class Fanout:
    """Live subscribers by session; publishing never blocks."""

    def __init__(self, buffer: int = 1000) -> None:
        self.buffer = buffer
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)
        self.overflows = 0  # live feeds cut for a full buffer (their readers caught up from the DB)
        self._subscribed = 0

    def next_tick_slice(self) -> int:
        """The ticker's slice for a new subscriber: round robin, so slices stay even."""
        self._subscribed += 1
        return self._subscribed % TICK_SLICES

    @contextmanager
    def subscribe(self, session_id: str, next_seq: int) -> Iterator[Subscription]:
        """Receive the session's batches from now on, until the ``with`` block ends;
        ``next_seq`` is the first seq the subscriber lacks."""
        subscription = Subscription(session_id, next_seq, self.buffer, self)
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

    def has_subscribers(self, session_id: str) -> bool:
        return session_id in self._subscribers

    def lowest_next_seq(self, session_id: str) -> int | None:
        """The first seq the furthest-behind subscriber of the session lacks."""
        subscriptions = self._subscribers.get(session_id)
        return min(s.next_seq for s in subscriptions) if subscriptions else None

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

    def wake_all(self, exclude: Collection[str] = ()) -> None:
        """Send every subscriber (but of ``exclude``'s sessions) to check the database."""
        for session_id in tuple(self._subscribers):
            if session_id not in exclude:
                self.wake(session_id, EVERYTHING)

    def tick(self, tick_slice: int) -> None:
        """Offer a heartbeat tick to every subscriber in ``tick_slice``, of every session."""
        for subscriptions in tuple(self._subscribers.values()):
            for subscription in tuple(subscriptions):
                if subscription.tick_slice == tick_slice:
                    subscription.offer(TICK)

    async def run_heartbeat(self, interval_s: float) -> None:
        """Tick every subscriber once every ``interval_s``, a slice at a time, until
        cancelled."""
        while True:
            for tick_slice in range(TICK_SLICES):
                await trio.sleep(interval_s / TICK_SLICES)
                self.tick(tick_slice)
