"""The runner over an in-memory store, driven by trio's MockClock."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing

from livesim.eventlog import LogRecord
from livesim.runner.pacing import MAX
from livesim.runner.session import SessionRunner
from livesim.runner.store import Lease, MemoryEventStore
from tests.support.stubs import candle_series, session_plan

SESSION = "s-1"
LEASE = Lease("process-a", 1)


class Recorder:
    """Publishes land here with the (mock) time they were published at."""

    def __init__(self) -> None:
        self.batches: list[tuple[float, tuple[LogRecord, ...]]] = []

    def __call__(self, session_id: str, records: tuple[LogRecord, ...]) -> None:
        self.batches.append((trio.current_time(), records))

    def candle_times(self) -> list[float]:
        return [t for t, batch in self.batches for r in batch if r.type == "candle"]


def make_runner(count: int = 20, *, speed: Any = 60.0, store: MemoryEventStore | None = None,
                **kwargs: Any) -> tuple[SessionRunner, MemoryEventStore, Recorder]:
    store = store or MemoryEventStore()
    recorder = Recorder()
    runner = SessionRunner(session_plan(candle_series(count)), store, recorder, lease=LEASE,
                           speed=speed,
                           **kwargs)
    return runner, store, recorder


async def reference_log(count: int = 20) -> list[LogRecord]:
    runner, store, _ = make_runner(count, speed=MAX)
    await runner.run()
    return store.log(SESSION)


async def test_runner_paced_releases_one_candle_per_interval(
        autojump_clock: trio.testing.MockClock) -> None:
    runner, store, recorder = make_runner(10, speed=60.0)  # 1m bars at 60x: one per second
    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        await nursery.start(runner.run)
    times = [round(t - start, 6) for t in recorder.candle_times()]
    assert times == [float(i) for i in range(10)]
    log = store.log(SESSION)
    assert [r.seq for r in log] == list(range(1, len(log) + 1))
    assert log[0].type == "session_started"
    assert log[-1].type == "session_finished"
    assert store.status[SESSION] == "finished"


async def test_runner_max_speed_writes_batches_without_waiting(
        autojump_clock: trio.testing.MockClock) -> None:
    runner, store, recorder = make_runner(500, speed=MAX, max_batch_events=300)
    start = trio.current_time()
    await runner.run()
    assert trio.current_time() == start
    assert store.writes < 20  # grouped, not one statement per candle
    assert len(recorder.candle_times()) == 500


async def test_runner_pause_resume_keeps_log_and_holds_events(
        autojump_clock: trio.testing.MockClock) -> None:
    runner, store, recorder = make_runner(20, speed=60.0)
    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        await nursery.start(runner.run)
        await trio.sleep(5.5)
        runner.pause()
        paused_at = len(recorder.candle_times())
        await trio.sleep(30)
        assert len(recorder.candle_times()) == paused_at  # nothing while paused
        runner.pause()  # a repeat is a no-op
        runner.resume()
    times = [t - start for t in recorder.candle_times()]
    # the next candle comes after the wait it still had when paused (0.5 s)
    assert times[paused_at] == pytest.approx(36.0)
    assert store.log(SESSION) == await reference_log(20)


async def test_runner_stop_ends_with_session_stopped_at_candle_boundary(
        autojump_clock: trio.testing.MockClock) -> None:
    runner, store, _ = make_runner(20, speed=60.0)
    async with trio.open_nursery() as nursery:
        await nursery.start(runner.run)
        await trio.sleep(2.5)
        runner.stop()
    log = store.log(SESSION)
    assert log[-1].type == "session_stopped"
    assert sum(r.type == "candle" for r in log) == 3
    assert '"candles":3' in log[-1].payload_json
    assert store.status[SESSION] == "stopped"
    assert log[:-1] == (await reference_log(20))[: len(log) - 1]


async def test_runner_speed_change_changes_pace_not_log(
        autojump_clock: trio.testing.MockClock) -> None:
    runner, store, recorder = make_runner(20, speed=60.0)
    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        await nursery.start(runner.run)
        await trio.sleep(4.5)
        runner.set_speed(120.0)  # 0.5 s per candle from now on
    times = [t - start for t in recorder.candle_times()]
    assert times[5] == pytest.approx(4.75)  # the 0.5 s left shrank to 0.25 s
    assert times[6] - times[5] == pytest.approx(0.5)
    assert store.log(SESSION) == await reference_log(20)


async def test_runner_restart_after_crash_writes_only_what_is_missing(
        autojump_clock: trio.testing.MockClock) -> None:
    store = MemoryEventStore()
    first, _, _ = make_runner(20, speed=60.0, store=store)
    async with trio.open_nursery() as nursery:
        await nursery.start(first.run)
        await trio.sleep(7.5)
        nursery.cancel_scope.cancel()  # the process dies mid-session
    crashed = store.log(SESSION)
    assert crashed[-1].type == "equity"  # candles are written whole
    second, _, recorder = make_runner(20, speed=60.0, store=store)
    await second.run()
    assert store.log(SESSION) == await reference_log(20)
    assert recorder.batches[0][1][0].seq == crashed[-1].seq + 1  # nothing written twice


class FailingStore(MemoryEventStore):
    """Refuses the write of one candle, as a broken database would."""

    def __init__(self, fail_on_write: int) -> None:
        super().__init__()
        self.fail_on_write = fail_on_write

    async def append(self, session_id: str, lease: Lease, records: Any) -> None:
        if self.writes + 1 == self.fail_on_write:
            self.writes += 1
            raise RuntimeError("disk on fire")
        await super().append(session_id, lease, records)


async def test_runner_failure_is_recorded_and_contained(
        autojump_clock: trio.testing.MockClock) -> None:
    store = FailingStore(fail_on_write=4)
    runner, _, _ = make_runner(20, speed=60.0, store=store)
    await runner.run()  # does not raise
    log = store.log(SESSION)
    assert log[-1].type == "session_failed"
    assert "disk on fire" in log[-1].payload_json
    assert [r.seq for r in log] == list(range(1, len(log) + 1))
    assert store.status[SESSION] == "failed"


async def test_runner_database_outage_is_waited_out_with_the_same_log(
        autojump_clock: trio.testing.MockClock) -> None:
    store = MemoryEventStore()
    runner, _, recorder = make_runner(20, speed=60.0, store=store)
    async with trio.open_nursery() as nursery:
        await nursery.start(runner.run)
        await trio.sleep(5.5)
        store.outages = 12  # the next writes fail as if the database were restarting
        await runner.done.wait()
    assert store.outages == 0
    assert store.status[SESSION] == "finished"
    assert store.log(SESSION) == await reference_log(20)
    published = [r.seq for _, batch in recorder.batches for r in batch]
    assert published == list(range(1, len(published) + 1))  # each event published once


async def test_runner_that_lost_ownership_stops_without_writing(
        autojump_clock: trio.testing.MockClock) -> None:
    store = MemoryEventStore()
    runner, _, _ = make_runner(20, speed=60.0, store=store)
    async with trio.open_nursery() as nursery:
        await nursery.start(runner.run)
        await trio.sleep(5.5)
        store.epoch[SESSION] = 2  # another process took the session over
        written = len(store.log(SESSION))
        await runner.done.wait()
    assert runner.abandoned
    assert len(store.log(SESSION)) == written
    assert SESSION not in store.status  # no terminal status, no session_failed


async def test_runner_abandoned_by_its_supervisor_writes_nothing_more(
        autojump_clock: trio.testing.MockClock) -> None:
    store = MemoryEventStore()
    runner, _, _ = make_runner(20, speed=60.0, store=store)
    async with trio.open_nursery() as nursery:
        await nursery.start(runner.run)
        await trio.sleep(5.5)
        written = len(store.log(SESSION))
        runner.abandon()
        await trio.sleep(30)
    assert runner.done.is_set()
    assert len(store.log(SESSION)) == written


async def test_runner_step_releases_n_candles_then_holds(
        autojump_clock: trio.testing.MockClock) -> None:
    runner, store, recorder = make_runner(20, speed=60.0, paused=True)
    async with trio.open_nursery() as nursery:
        await nursery.start(runner.run)
        await trio.sleep(30)
        assert recorder.candle_times() == []  # paused from the start
        runner.add_steps(3)
        await trio.sleep(30)
        assert len(recorder.candle_times()) == 3  # three, at once, and then it holds
        runner.add_steps(3)  # the same running total again: nothing more
        runner.add_steps(5)
        await trio.sleep(30)
        assert len(recorder.candle_times()) == 5
        runner.resume()
    assert store.log(SESSION) == await reference_log(20)


async def test_runner_seek_releases_unpaced_up_to_time_then_holds(
        autojump_clock: trio.testing.MockClock) -> None:
    runner, store, recorder = make_runner(20, speed=60.0, paused=True)
    candles = runner.plan.candles
    async with trio.open_nursery() as nursery:
        await nursery.start(runner.run)
        start = trio.current_time()
        runner.seek(candles[12].ts)
        await trio.sleep(0.001)
        released = [r for _, batch in recorder.batches for r in batch if r.type == "candle"]
        assert [r.ts for r in released] == [c.ts for c in candles[:12]]  # no waiting
        assert trio.current_time() - start < 0.01
        await trio.sleep(60)
        assert len(recorder.candle_times()) == 12  # then it holds, paused
        runner.resume()
    assert store.log(SESSION) == await reference_log(20)


async def test_runner_restart_replays_recorded_inputs_to_the_same_log(
        autojump_clock: trio.testing.MockClock) -> None:
    order = ("submit_order", {"clientOrderId": "o1", "side": "buy", "type": "market",
                              "qty": 1})
    close = ("close_position", {})

    async def run_with_inputs(crash_at: float | None) -> list[LogRecord]:
        store = MemoryEventStore()
        plan = session_plan(candle_series(20), profile_slug="manual", config={})
        first = SessionRunner(plan, store, Recorder(), lease=LEASE, speed=60.0)
        async with trio.open_nursery() as nursery:
            await nursery.start(first.run)
            await trio.sleep(3.5)
            store.pending_inputs[SESSION] = [order]
            first.inputs_arrived()
            await trio.sleep(4.0)
            store.pending_inputs[SESSION] = [close]
            first.inputs_arrived()
            if crash_at is not None:
                await trio.sleep(crash_at)
                nursery.cancel_scope.cancel()  # the process dies
        if crash_at is not None:
            second = SessionRunner(plan, store, Recorder(), lease=LEASE, speed=60.0)
            await second.run()
        return store.log(SESSION)

    clean = await run_with_inputs(None)
    assert [r.type for r in clean].count("trade_closed") == 1
    assert await run_with_inputs(0.5) == clean
    assert await run_with_inputs(5.0) == clean
