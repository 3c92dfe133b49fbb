"""The session supervisor: owns the nursery every runner lives in.

Theory of operation: one supervisor per process.  It holds a dedicated "lease"
connection; running a session means holding a session-level advisory lock on it,
so across all processes sharing one PostgreSQL exactly one runs each session.  A
process that dies drops its connection and with it its locks; the others find
the orphans on their next scan (and a restarted process on its first) and resume
them.  Controls reach a runner directly when it is local, and through NOTIFY
``livesim_control`` when another process owns it; committed events wake other
processes' subscribers through NOTIFY ``livesim_events``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import trio

from livesim.bus.fanout import Fanout
from livesim.db.bridge import Database, Executor
from livesim.market.store import CandleSet, load_candles
from livesim.runner.pacing import speed_from_text
from livesim.runner.session import SessionPlan, SessionRunner
from livesim.runner.store import PgEventStore

LOGGER = logging.getLogger(__name__)
ORPHAN_SCAN_INTERVAL_S = 2.0


class Supervisor:
    """Starts, controls and adopts session runners; see the module docstring."""

    def __init__(self, db: Database, fanout: Fanout, *,
                 scan_interval_s: float = ORPHAN_SCAN_INTERVAL_S) -> None:
        self.db = db
        self.fanout = fanout
        self.runners: dict[str, SessionRunner] = {}
        # claimed synchronously before any await, so a create and a scan racing in
        # this process cannot both start the session (advisory locks are re-entrant
        # on one connection)
        self._claimed: set[str] = set()
        self._scan_interval_s = scan_interval_s
        self._store = PgEventStore(db)
        self._nursery: trio.Nursery | None = None
        self._lease: Executor | None = None
        self._lease_lock = trio.Lock()

    async def run(self, *, task_status: trio.TaskStatus[Supervisor] = trio.TASK_STATUS_IGNORED
                  ) -> None:
        """Serve until cancelled: adopt orphans, listen for controls and events."""
        async with self.db.connection() as lease, trio.open_nursery() as nursery:
            self._lease = lease
            self._nursery = nursery
            await nursery.start(self._listen_controls)
            await nursery.start(self._listen_events)
            await self.adopt_orphans()
            nursery.start_soon(self._scan_forever)
            task_status.started(self)

    async def start_session(self, row: Mapping[str, Any],
                            candle_set: CandleSet | None = None) -> bool:
        """Run the session of ``row`` here unless another process already does.

        Returns once ``session_started`` is durable (True), or at once (False) when
        the session is owned elsewhere or already running here.
        """
        session_id = str(row["id"])
        if session_id in self._claimed:
            return False
        self._claimed.add(session_id)
        try:
            if not await self._try_lock(session_id):
                self._claimed.discard(session_id)
                return False
            runner = await self._build_runner(row, candle_set)
        except BaseException:
            self._claimed.discard(session_id)
            with trio.CancelScope(shield=True):
                await self._unlock(session_id)
            raise
        self.runners[session_id] = runner
        assert self._nursery is not None
        await self._nursery.start(self._run_runner, runner)
        return True

    async def _build_runner(self, row: Mapping[str, Any],
                            candle_set: CandleSet | None) -> SessionRunner:
        if candle_set is None:
            candle_set = await load_candles(self.db, row["symbol"], row["timeframe"],
                                            row["start_ms"], row["end_ms"])
        plan = SessionPlan(
            session_id=str(row["id"]), profile_slug=row["profile_slug"], symbol=row["symbol"],
            timeframe=row["timeframe"], start_ms=row["start_ms"], end_ms=row["end_ms"],
            config=json.loads(row["config"]), gap_policy=row["gap_policy"],
            candles=candle_set.candles, gaps=candle_set.gaps)
        return SessionRunner(plan, self._store, self.fanout.publish,
                             speed=speed_from_text(row["speed"]),
                             paused=row["status"] == "paused",
                             stop_requested=row["status"] == "stopped")

    async def _run_runner(self, runner: SessionRunner, *,
                          task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        try:
            await runner.run(task_status=task_status)
        finally:
            self.runners.pop(runner.session_id, None)
            self._claimed.discard(runner.session_id)
            with trio.CancelScope(shield=True):
                await self._unlock(runner.session_id)

    def apply_control(self, row: Mapping[str, Any]) -> bool:
        """Bring a local runner in line with its row's status and speed."""
        runner = self.runners.get(str(row["id"]))
        if runner is None:
            return False
        status = row["status"]
        runner.set_speed(speed_from_text(row["speed"]))
        if status == "paused":
            runner.pause()
        elif status == "running":
            runner.resume()
        elif status == "stopped":
            runner.stop()
        return True

    async def control(self, row: Mapping[str, Any]) -> None:
        """Deliver a control: to the local runner, else to whichever process owns it."""
        if not self.apply_control(row):
            await self.db.run("notify-control", session_id=str(row["id"]))

    async def adopt_orphans(self) -> int:
        """Resume live sessions that no process runs (after a crash or restart)."""
        adopted = 0
        for row in await self.db.run("list-live-sessions"):
            if str(row["id"]) in self._claimed:
                continue
            try:
                adopted += await self.start_session(row)
            except Exception:
                LOGGER.exception("could not resume session %s", row["id"])
        return adopted

    async def _scan_forever(self) -> None:
        while True:
            await trio.sleep(self._scan_interval_s)
            try:
                await self.adopt_orphans()
            except Exception:
                LOGGER.exception("orphan scan failed")

    async def _listen_controls(self, *, task_status: trio.TaskStatus[None]) -> None:
        async with self.db.listen("livesim_control") as notifications:
            task_status.started()
            async for session_id in notifications:
                if session_id in self.runners:
                    row = await self.db.run("get-session", id=session_id)
                    if row is not None:
                        self.apply_control(row)

    async def _listen_events(self, *, task_status: trio.TaskStatus[None]) -> None:
        async with self.db.listen("livesim_events") as notifications:
            task_status.started()
            async for payload in notifications:
                session_id, _, last_seq = payload.partition(":")
                # A local runner publishes its own batches; waking its subscribers too
                # would send each of them to the database for what they are about to get.
                if last_seq.isdigit() and session_id not in self.runners:
                    self.fanout.wake(session_id, int(last_seq))

    async def _try_lock(self, session_id: str) -> bool:
        assert self._lease is not None
        async with self._lease_lock:
            locked: bool = await self._lease.run("try-lock-session", session_id=session_id)
        return locked

    async def _unlock(self, session_id: str) -> None:
        assert self._lease is not None
        async with self._lease_lock:
            await self._lease.run("unlock-session", session_id=session_id)
