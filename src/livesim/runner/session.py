"""One session's replay loop.

Theory of operation
-------------------
A :class:`SessionRunner` is the only writer of its session's log, and writes it
serially: the scheduler's order never reaches the log.  For each candle it waits
for the release time (pacing, pause), asks the pure engine for the candle's
events, numbers them (seq + 1 each, no gaps) and writes them in one idempotent
statement, then publishes them: subscribers only ever see durable events.

Ownership (fencing).  A runner writes under a :class:`~livesim.runner.store.Lease`
(owning process, epoch) that its supervisor obtained when it claimed the session.
Every write names the lease and locks the session row in the same statement; it is
refused unless the session is live and still owned under that epoch.  A takeover
bumps the epoch, so whatever the database or the network did (a restart, a process
frozen for a while and resumed, two processes each believing they own the session),
at most one runner's writes land and a runner that lost its session learns it from
its next write (:class:`~livesim.runner.store.LostOwnership`) and stops at once,
writing nothing more.  Its supervisor may also tell it sooner (:meth:`abandon`).

Outages.  A write that fails because the database is away is retried, the same
batch with the same seqs, with backoff, until it lands or the lease is lost: an
outage delays a session, it never fails it.  A retried write that had committed
after all inserts nothing (``ON CONFLICT DO NOTHING``).

Restart: the log is a pure function of its inputs, so a resumed runner recomputes
from candle 0.  Candles whose first seq is already durable are replayed through
the engine without waiting or writing; writing resumes at the first missing
candle.  Candles are written whole, so "first seq durable" means "all durable".

Controls come from the supervisor as plain method calls.  ``stop()`` and
``pause()`` cancel a scope that wraps *only* the waits; the loop re-checks the
flags between candles, so a candle is never half-processed and ``session_stopped``
is written outside any cancelled scope.  The terminal event and the terminal
status are one statement.  Unpaced (``"max"``) replays group several candles per
statement and flush before any pause or stop takes effect.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import trio

from livesim.errors import Unavailable
from livesim.eventlog import LogRecord, record_from_event
from livesim.runner.pacing import Pacer, Speed
from livesim.runner.store import EventStore, Lease, LostOwnership
from livesim.sim.candles import Candle, timeframe_ms
from livesim.sim.engine import SessionEngine, build_engine
from livesim.sim.events import (
    Event,
    SessionFailed,
    SessionFinished,
    SessionStarted,
    SessionStopped,
)
from livesim.sim.inputs import Input, parse_input
from livesim.status import SessionStatus

LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
Publish = Callable[[str, tuple[LogRecord, ...]], None]
# An unpaced replay groups candles until a statement holds about this many events.
MAX_BATCH_EVENTS = 2000
# ...and yields to the scheduler this often while computing one.
UNPACED_CHECKPOINT_CANDLES = 64
# Retrying a write through an outage: first wait, growth, longest wait (seconds).
RETRY_FIRST_S, RETRY_FACTOR, RETRY_MAX_S = 0.05, 2.0, 2.0
# How long a failing runner keeps trying to record its failure under shutdown's cancel.
FAIL_RECORD_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class SessionPlan:
    """Everything that determines a session's log (speed and pauses do not)."""

    session_id: str
    profile_slug: str
    symbol: str
    timeframe: str
    start_ms: int
    end_ms: int
    config: dict[str, Any]
    gap_policy: str
    candles: Sequence[Candle]
    gaps: list[dict[str, Any]] = field(default_factory=list)

    def started_event(self, engine: SessionEngine) -> SessionStarted:
        return SessionStarted(ts=self.start_ms, info={
            "profileSlug": self.profile_slug, "symbol": self.symbol,
            "timeframe": self.timeframe, "startMs": self.start_ms, "endMs": self.end_ms,
            "config": engine.config, "gapPolicy": self.gap_policy, "gaps": self.gaps,
            "candleCount": len(self.candles)})


def opening_record(plan: SessionPlan) -> LogRecord:
    """The log's first record (``session_started``), written by the create itself."""
    engine = build_engine(plan.profile_slug, plan.config, timeframe=plan.timeframe,
                          candle_count=len(plan.candles))
    return record_from_event(1, plan.started_event(engine))


class SessionRunner:
    """Replays one session; see the module's theory of operation."""

    def __init__(self, plan: SessionPlan, store: EventStore, publish: Publish, *,
                 lease: Lease, speed: Speed, paused: bool = False,
                 stop_requested: bool = False, written_before: int | None = None,
                 step_count: int = 0, seek_to_ms: int | None = None,
                 max_batch_events: int = MAX_BATCH_EVENTS) -> None:
        self.plan = plan
        self.lease = lease
        self._store = store
        self._publish = publish
        self._speed = speed
        self._paused = paused
        self.stop_requested = stop_requested
        self._max_batch_events = max_batch_events
        self._resumed = trio.Event()
        if not paused:
            self._resumed.set()
        self._wait_scope: trio.CancelScope | None = None
        self._pacer: Pacer | None = None
        self._seq = 0
        # the log's length when this runner started (restart); None: read it first
        self._known_written = written_before
        self._written_before = 0
        self._run_scope = trio.CancelScope()
        self.abandoned = False
        # step and seek: candles released while paused (see add_steps and seek)
        self._step_count_seen = step_count
        self._steps_left = 0
        self._seek_to_ms = seek_to_ms
        self._seeking = False
        # outside inputs may be pending: claim them at the next candle boundary
        self._inputs_waiting = True
        self._pending: list[LogRecord] = []
        self._nursery: trio.Nursery | None = None
        self._in_flight: trio.Event | None = None
        self._write_error: Exception | None = None
        self.candles_released = 0
        self.done = trio.Event()

    @property
    def session_id(self) -> str:
        return self.plan.session_id

    # -- controls (called from other tasks; effective at the next candle boundary) --

    def pause(self) -> None:
        """Hold the next candle until :meth:`resume`."""
        if self._paused:
            return
        self._paused = True
        self._resumed = trio.Event()  # an Event cannot be cleared: swap in a new one
        if self._pacer is not None:
            self._pacer.pause(trio.current_time())
        self._interrupt_wait()

    def resume(self) -> None:
        """Release candles again; the wait that was left before the pause is kept."""
        if not self._paused:
            return
        self._paused = False
        if self._pacer is not None:
            self._pacer.resume(trio.current_time())
        self._resumed.set()

    def stop(self) -> None:
        """End the session at the next candle boundary with ``session_stopped``."""
        self.stop_requested = True
        self._interrupt_wait()

    def set_speed(self, speed: Speed) -> None:
        """Change the pace from the next release on; the log is unaffected."""
        if speed == self._speed:
            return
        self._speed = speed
        if self._pacer is not None:
            self._pacer.set_speed(speed, trio.current_time())
        self._interrupt_wait()

    def add_steps(self, step_count: int) -> None:
        """Release, while paused, the steps added since the last call.

        ``step_count`` is the session's running total (it only grows), so a control
        delivered twice releases its candles once.
        """
        if step_count > self._step_count_seen:
            self._steps_left += step_count - self._step_count_seen
            self._step_count_seen = step_count
            self._interrupt_wait()

    def seek(self, to_ms: int | None) -> None:
        """Release, unpaced and while paused, every candle that opens before ``to_ms``."""
        if to_ms is not None and to_ms != self._seek_to_ms:
            self._seek_to_ms = to_ms
            self._interrupt_wait()

    def inputs_arrived(self) -> None:
        """Outside inputs may be pending: take them at the next candle boundary."""
        self._inputs_waiting = True

    def abandon(self) -> None:
        """Stop at once without writing anything more: the session is no longer ours."""
        self.abandoned = True
        self._run_scope.cancel()

    def _interrupt_wait(self) -> None:
        if self._wait_scope is not None:
            self._wait_scope.cancel()

    # -- the loop --

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
                  ) -> None:
        """Replay the session to its terminal event; never raises for a session failure.

        ``task_status.started()`` is called once ``session_started`` is durable.
        """
        started = False

        def mark_started() -> None:
            nonlocal started
            if not started:
                started = True
                task_status.started()

        try:
            with self._run_scope:
                try:
                    async with trio.open_nursery() as self._nursery:
                        await self._replay(mark_started)
                except Exception as error:  # one session's failure must not take down others
                    error = _innermost(error)
                    if isinstance(error, LostOwnership):
                        LOGGER.warning("session %s: lost ownership, stopping here",
                                       self.session_id)
                        self.abandoned = True
                    else:
                        LOGGER.exception("session %s failed", self.session_id)
                        await self._fail(error)
            mark_started()
        finally:
            self.done.set()

    async def _replay(self, mark_started: Callable[[], None]) -> None:
        plan = self.plan
        if self._known_written is None:
            self._known_written = await self._retrying(
                lambda: self._store.last_seq(plan.session_id))
        self._written_before = self._known_written
        engine = build_engine(plan.profile_slug, plan.config, timeframe=plan.timeframe,
                              candle_count=len(plan.candles))
        self._emit([plan.started_event(engine)])
        await self._flush()
        mark_started()

        self._pacer = Pacer.start(timeframe_ms(plan.timeframe), self._speed,
                                  trio.current_time())
        if self._paused:
            self._pacer.pause(trio.current_time())
        last_ts = plan.start_ms
        recorded = await self._retrying(lambda: self._store.recorded_inputs(plan.session_id))
        inputs_at: dict[int, list[Input]] = {}
        for item in recorded:
            inputs_at.setdefault(item.candle_index, []).append(parse_input(item.kind, item.body))
        for index, candle in enumerate(plan.candles):
            if self._seq + 1 > self._written_before:
                if not await self._wait_for_release(candle):
                    await self._flush()
                    await self._terminate(SessionStopped(
                        ts=last_ts, candles=self.candles_released, stats=engine.stats()),
                        SessionStatus.STOPPED)
                    return
                if self._inputs_waiting:
                    inputs_at.setdefault(index, []).extend(await self._claim_inputs(index))
            self._emit(engine.step(candle, inputs_at.pop(index, ())))
            self.candles_released += 1
            last_ts = candle.ts
            if not (self._pacer.unpaced or self._seeking):
                await self._flush()
            elif len(self._pending) >= self._max_batch_events:
                await self._flush(write_behind=True)
            elif self.candles_released % UNPACED_CHECKPOINT_CANDLES == 0:
                # let the batch in flight reach the database while we compute the next
                await trio.lowlevel.checkpoint()
        await self._flush()
        await self._terminate(SessionFinished(ts=last_ts, stats=engine.stats()),
                              SessionStatus.FINISHED)

    async def _wait_for_release(self, candle: Candle) -> bool:
        """Wait until ``candle`` is due; False when a stop took effect instead."""
        assert self._pacer is not None
        while True:
            if self.stop_requested:
                return False
            if self._paused:
                # steps first: a step sent before a seek is not swallowed by it
                if self._steps_left > 0:
                    self._steps_left -= 1
                    self._seeking = False
                    return True
                self._seeking = self._seek_to_ms is not None and candle.ts < self._seek_to_ms
                if self._seeking:
                    return True
                await self._flush()  # what was released before the pause is published now
                with trio.CancelScope() as self._wait_scope:
                    await self._resumed.wait()
                self._wait_scope = None
                continue
            if self._pacer.unpaced:
                return True
            due = self._pacer.next_release
            if trio.current_time() >= due:
                self._pacer.released(trio.current_time())
                return True
            with trio.CancelScope() as self._wait_scope:
                await trio.sleep_until(due)
            self._wait_scope = None

    def _emit(self, events: Sequence[Event]) -> None:
        for event in events:
            self._seq += 1
            if self._seq > self._written_before:
                self._pending.append(record_from_event(self._seq, event))

    async def _flush(self, *, write_behind: bool = False) -> None:
        """Write and then publish what is pending, in order.

        ``write_behind`` (unpaced replays) returns at once and lets the statement run
        while the next batch is computed; the next flush waits for it first, so there
        is at most one write in flight and batches stay in order.
        """
        await self._settle()
        if not self._pending:
            return
        records = tuple(self._pending)
        self._pending.clear()
        if write_behind:
            assert self._nursery is not None
            self._in_flight = trio.Event()
            self._nursery.start_soon(self._write_behind, records, self._in_flight)
        else:
            await self._append(records)

    async def _append(self, records: tuple[LogRecord, ...]) -> None:
        await self._retrying(lambda: self._store.append(self.session_id, self.lease, records))
        self._publish(self.session_id, records)

    async def _claim_inputs(self, index: int) -> list[Input]:
        # Recorded durably with their candle before the candle is computed: a restart
        # replays them at the same candle.
        self._inputs_waiting = False
        claimed = await self._retrying(
            lambda: self._store.claim_inputs(self.session_id, self.lease, index))
        return [parse_input(item.kind, item.body) for item in claimed]

    async def _retrying(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """``attempt()`` until the database answers; an outage is a wait, not a failure."""
        delay = RETRY_FIRST_S
        while True:
            try:
                return await attempt()
            except Unavailable:
                LOGGER.warning("session %s: database unavailable, retrying in %.2f s",
                               self.session_id, delay)
            await trio.sleep(delay)
            delay = min(delay * RETRY_FACTOR, RETRY_MAX_S)

    async def _write_behind(self, records: tuple[LogRecord, ...], done: trio.Event) -> None:
        try:
            await self._append(records)
        except Exception as error:  # handed to the loop by _settle
            self._write_error = error
        finally:
            done.set()

    async def _settle(self) -> None:
        if self._in_flight is not None:
            await self._in_flight.wait()
            self._in_flight = None
        if self._write_error is not None:
            error, self._write_error = self._write_error, None
            raise error

    async def _terminate(self, event: Event, status: SessionStatus,
                         error: dict[str, Any] | None = None) -> None:
        await self._settle()
        self._emit([event])
        records = tuple(self._pending)
        self._pending.clear()
        if records:
            await self._retrying(lambda: self._store.append_terminal(
                self.session_id, self.lease, records, status, error))
            self._publish(self.session_id, records)

    async def _fail(self, error: Exception) -> None:
        # Whatever was computed but not written is dropped: the failure follows the
        # last durable event.
        self._pending.clear()
        detail = {"code": "runner_error", "message": f"{type(error).__name__}: {error}"}
        code = getattr(error, "code", None)
        if isinstance(code, str):
            detail["code"] = code
        with trio.CancelScope(shield=True), trio.move_on_after(FAIL_RECORD_TIMEOUT_S):
            try:
                if self._in_flight is not None:
                    await self._in_flight.wait()
                self._in_flight, self._write_error = None, None
                self._seq = self._written_before = await self._retrying(
                    lambda: self._store.last_seq(self.session_id))
                await self._terminate(SessionFailed(ts=self.plan.start_ms, error=detail),
                                      SessionStatus.FAILED, detail)
            except LostOwnership:
                LOGGER.warning("session %s: lost ownership before recording its failure",
                               self.session_id)
            except Exception:
                # Left live: the next owner recomputes the log and meets the failure again.
                LOGGER.exception("session %s: could not record its failure", self.session_id)


def _innermost(error: Exception) -> Exception:
    """The error itself, not the nursery's one-member group around it."""
    while isinstance(error, ExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error
