"""The session supervisor: owns the nursery every runner lives in, and its leases.

Theory of operation
-------------------
One supervisor per process, with a random process id.  It keeps a lease row in
``livesim_processes`` and renews it every ``lease_ttl_s / 5``.  A session is owned by
one process under an epoch (``sim_sessions.owner, epoch``): a create writes the session
already owned by its process, and a process that finds a live session whose owner's
lease ran out (the owner died, froze, or lost the database for longer than the TTL)
claims it with ``epoch + 1`` and resumes it.  Liveness is a heuristic; safety is not:
every write of a runner is fenced by its epoch (:mod:`livesim.runner.store`), so a
presumed-dead owner that comes back can never write again.  A clean shutdown releases
the process's sessions so another process adopts them at once.

Every ``scan_interval_s`` the supervisor (1) adopts orphans and (2) reconciles its own
runners with their rows: a runner whose session is no longer owned under its epoch is
abandoned (it stops at once, writing nothing), and the others get the row's status,
speed and stop request.  Controls also arrive at once through NOTIFY
``livesim_control``, and committed events wake other processes' subscribers through
NOTIFY ``livesim_events``; both listeners reconnect after a database restart and then
re-read state, since notifications sent while they were away are lost.

Every loop here rides out database outages (it logs, waits and tries again); any
other exception escapes and ends the process's services, which makes the process exit
(crash-only: see :mod:`livesim.app.services`).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import trio

from livesim.bus.fanout import Fanout
from livesim.bus.relay import Relay
from livesim.db.bridge import Database
from livesim.errors import Unavailable
from livesim.market.store import CandleSet, load_candles
from livesim.runner.group_commit import GroupCommit
from livesim.runner.pacing import speed_from_text
from livesim.runner.session import SessionPlan, SessionRunner
from livesim.runner.store import Lease, PgEventStore
from livesim.status import LIVE_VALUES, SessionStatus

LOGGER = logging.getLogger(__name__)
ORPHAN_SCAN_INTERVAL_S = 2.0
LEASE_TTL_S = 5.0
# A LISTEN connection that cannot answer a probe in this long is presumed dead.
LISTEN_PROBE_INTERVAL_S = 5.0
RECONNECT_FIRST_S, RECONNECT_MAX_S = 0.1, 2.0
RELEASE_TIMEOUT_S = 2.0


def plan_from_row(row: Mapping[str, Any], candle_set: CandleSet) -> SessionPlan:
    """The replay plan of a session row and its candles."""
    return SessionPlan(
        session_id=str(row["id"]), profile_slug=row["profile_slug"], symbol=row["symbol"],
        timeframe=row["timeframe"], start_ms=row["start_ms"], end_ms=row["end_ms"],
        config=json.loads(row["config"]), gap_policy=row["gap_policy"],
        candles=candle_set.candles, gaps=candle_set.gaps)


class Supervisor:
    """Starts, controls, adopts and fences session runners; see the module docstring."""

    def __init__(self, db: Database, fanout: Fanout, *,
                 scan_interval_s: float = ORPHAN_SCAN_INTERVAL_S,
                 lease_ttl_s: float = LEASE_TTL_S) -> None:
        self.db = db
        self.fanout = fanout
        self.process_id = str(uuid.uuid4())
        self.runners: dict[str, SessionRunner] = {}
        # claimed synchronously before any await, so a create and a scan racing in
        # this process cannot both start the session
        self._claimed: set[str] = set()
        self._scan_interval_s = scan_interval_s
        self._lease_ttl_s = lease_ttl_s
        self._group = GroupCommit(db)
        self._relay = Relay(db, fanout)
        self._store = PgEventStore(db, self._group)
        self._nursery: trio.Nursery | None = None

    async def run(self, *, task_status: trio.TaskStatus[Supervisor] = trio.TASK_STATUS_IGNORED
                  ) -> None:
        """Serve until cancelled: renew the lease, adopt orphans, listen, reconcile."""
        await self._renew_lease()
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                await nursery.start(self._group.run)
                await nursery.start(self._relay.run)
                nursery.start_soon(self._renew_forever)
                await nursery.start(self._listen_forever, "livesim_control",
                                    self._on_control, self._resync_controls)
                await nursery.start(self._listen_forever, "livesim_events",
                                    self._on_events, self._resync_events)
                await self._scan_once()
                nursery.start_soon(self._scan_forever)
                task_status.started(self)
        finally:
            # Runners are done (the nursery has exited): hand their sessions over.
            with trio.CancelScope(shield=True), trio.move_on_after(RELEASE_TIMEOUT_S):
                try:
                    await self.db.run("release-process", owner=self.process_id,
                                      live=LIVE_VALUES)
                except Exception:  # their leases run out instead
                    LOGGER.warning("could not release this process's sessions")

    # -- starting runners --

    async def start_created(self, row: Mapping[str, Any], plan: SessionPlan) -> None:
        """Run a session this process has just created (its first event is durable)."""
        session_id = str(row["id"])
        self._claimed.add(session_id)
        await self._start(row, plan, Lease(self.process_id, row["epoch"]), written_before=1)

    async def _start(self, row: Mapping[str, Any], plan: SessionPlan, lease: Lease, *,
                     written_before: int | None = None) -> None:
        runner = SessionRunner(plan, self._store, self.fanout.publish, lease=lease,
                               speed=speed_from_text(row["speed"]),
                               paused=row["status"] == SessionStatus.PAUSED,
                               stop_requested=row["stop_requested"],
                               written_before=written_before, step_count=row["step_count"],
                               seek_to_ms=row["seek_to_ms"])
        self.runners[plan.session_id] = runner
        assert self._nursery is not None
        try:
            await self._nursery.start(self._run_runner, runner)
        except BaseException:
            self._forget(runner)
            raise

    async def _run_runner(self, runner: SessionRunner, *,
                          task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        try:
            await runner.run(task_status=task_status)
        finally:
            self._forget(runner)

    def _forget(self, runner: SessionRunner) -> None:
        if self.runners.get(runner.session_id) is runner:
            del self.runners[runner.session_id]
        self._claimed.discard(runner.session_id)

    async def adopt_orphans(self) -> int:
        """Claim and resume live sessions that no living process runs."""
        adopted = 0
        rows = await self.db.run("list-orphan-sessions", owner=self.process_id,
                                 live=LIVE_VALUES, running=list(self._claimed))
        for orphan in rows:
            session_id = str(orphan["id"])
            if session_id in self._claimed:
                continue
            self._claimed.add(session_id)
            try:
                row = await self.db.run("claim-session", id=session_id, owner=self.process_id,
                                        live=LIVE_VALUES)
                if row is None:
                    self._claimed.discard(session_id)
                    continue
                candle_set = await load_candles(self.db, row["symbol"], row["timeframe"],
                                                row["start_ms"], row["end_ms"])
                await self._start(row, plan_from_row(row, candle_set),
                                  Lease(self.process_id, row["epoch"]))
                adopted += 1
            except Exception:
                # Still owned by us with no runner: the next scan claims it again.
                self._claimed.discard(session_id)
                LOGGER.exception("could not resume session %s", session_id)
        return adopted

    # -- controls and reconciliation --

    def apply_control(self, row: Mapping[str, Any], *, inputs_pending: bool = False) -> bool:
        """Bring a local runner in line with its row; abandon it if it lost the session.

        Only what differs from the runner's state reaches it: the reconcile applies
        every local row every few seconds, and a thousand runners woken (or sent to
        claim inputs) at once stalled them all by half a second.
        """
        runner = self.runners.get(str(row["id"]))
        if runner is None:
            return False
        if str(row["owner"]) != self.process_id or row["epoch"] != runner.lease.epoch:
            LOGGER.warning("session %s is owned elsewhere now: abandoning it here",
                           runner.session_id)
            runner.abandon()
            return True
        runner.set_speed(speed_from_text(row["speed"]))
        runner.add_steps(row["step_count"])
        if inputs_pending:
            runner.inputs_arrived()
        runner.seek(row["seek_to_ms"])
        if row["stop_requested"]:
            runner.stop()
        elif row["status"] == SessionStatus.PAUSED:
            runner.pause()
        elif row["status"] == SessionStatus.RUNNING:
            runner.resume()
        return True

    async def control(self, row: Mapping[str, Any], *, inputs_pending: bool = False) -> None:
        """Deliver a control: to the local runner, else to whichever process owns it."""
        if not self.apply_control(row, inputs_pending=inputs_pending):
            await self.db.run("notify-control", session_id=str(row["id"]))

    async def reconcile(self, session_ids: list[str] | None = None) -> None:
        """Re-read the rows of local runners (all, or some) and apply them."""
        ids = list(self.runners) if session_ids is None else session_ids
        if not ids:
            return
        rows = {str(r["id"]): r for r in await self.db.run("get-sessions", ids=ids)}
        for session_id in ids:
            runner = self.runners.get(session_id)
            row = rows.get(session_id)
            if runner is None:
                continue
            if row is None:  # deleted under us
                runner.abandon()
            else:
                self.apply_control(row, inputs_pending=row["pending_inputs"])

    # -- the loops --

    async def _renew_lease(self) -> None:
        await self.db.run("renew-process-lease", owner=self.process_id,
                          ttl_s=self._lease_ttl_s, host=socket.gethostname(), pid=os.getpid())

    async def _renew_forever(self) -> None:
        await self._every(self._lease_ttl_s / 5, self._renew_lease, "lease renewal")

    async def _scan_once(self) -> None:
        await self.reconcile()
        await self.adopt_orphans()

    async def _scan_forever(self) -> None:
        await self._every(self._scan_interval_s, self._scan_once, "session scan")

    async def _every(self, interval_s: float, work: Callable[[], Awaitable[None]],
                     what: str) -> None:
        failing = False
        while True:
            await trio.sleep(interval_s)
            try:
                await work()
            except Unavailable:
                if not failing:
                    LOGGER.warning("%s: database unavailable; retrying", what)
                failing = True
                continue
            if failing:
                LOGGER.warning("%s: database back", what)
            failing = False

    async def _listen_forever(self, channel: str, handle: Callable[[str], Awaitable[None]],
                              resync: Callable[[], Awaitable[None]], *,
                              task_status: trio.TaskStatus[None]) -> None:
        """LISTEN on ``channel`` for good: reconnect with backoff, then ``resync``."""
        delay = RECONNECT_FIRST_S
        connected_before = False
        while True:
            try:
                async with self.db.listen(channel) as listener, trio.open_nursery() as nursery:
                    if connected_before:
                        LOGGER.warning("listening on %s again", channel)
                        await resync()
                    else:
                        task_status.started()
                    connected_before = True
                    delay = RECONNECT_FIRST_S
                    nursery.start_soon(self._probe_forever, listener.probe, nursery.cancel_scope)
                    async for payload in listener.notifications:
                        await handle(payload)
                    nursery.cancel_scope.cancel()  # the connection ended
            except* Unavailable:
                pass
            if not connected_before:
                task_status.started()  # serve anyway; the loop keeps trying
                connected_before = True
            LOGGER.warning("lost the %s listener; reconnecting in %.1f s", channel, delay)
            await trio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_S)

    async def _probe_forever(self, probe: Callable[[], Awaitable[None]],
                             scope: trio.CancelScope) -> None:
        while True:
            await trio.sleep(LISTEN_PROBE_INTERVAL_S)
            try:
                with trio.fail_after(LISTEN_PROBE_INTERVAL_S):
                    await probe()
            except (Unavailable, trio.TooSlowError):
                scope.cancel()
                return

    async def _on_control(self, session_id: str) -> None:
        if session_id in self.runners:
            await self.reconcile([session_id])

    async def _resync_controls(self) -> None:
        await self.reconcile()

    async def _on_events(self, payload: str) -> None:
        session_id, _, last_seq = payload.partition(":")
        # A local runner publishes its own batches; another process's are read once
        # for all of this process's streams (see bus/relay.py).
        if last_seq.isascii() and last_seq.isdigit() and session_id not in self.runners:
            self._relay.notified(session_id, int(last_seq))

    async def _resync_events(self) -> None:
        # Wake-ups sent while we were away are lost: every subscriber checks the log.
        self._relay.forget_all()
        self.fanout.wake_all(exclude=set(self.runners))
