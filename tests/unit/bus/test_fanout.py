"""The fan-out's heartbeat: each subscriber once an interval, never all at once."""

from __future__ import annotations

from contextlib import ExitStack

import trio
import trio.testing

from livesim.bus.fanout import TICK_SLICES, Fanout, Subscription, Tick

SUBSCRIBERS = 4 * TICK_SLICES


def ticks_queued(subscription: Subscription) -> int:
    ticks = 0
    try:
        while True:
            ticks += isinstance(subscription._receive.receive_nowait(), Tick)
    except trio.WouldBlock:
        return ticks


def test_one_slice_ticks_its_share_and_a_round_ticks_each_subscriber_once() -> None:
    fanout = Fanout()
    with ExitStack() as stack:
        subscriptions = [stack.enter_context(fanout.subscribe(f"s{index % 3}", 1))
                         for index in range(SUBSCRIBERS)]
        fanout.tick(0)
        assert sum(map(ticks_queued, subscriptions)) == SUBSCRIBERS // TICK_SLICES
        for tick_slice in range(1, TICK_SLICES):
            fanout.tick(tick_slice)
        assert [ticks_queued(s) for s in subscriptions] == [
            0 if s.tick_slice == 0 else 1 for s in subscriptions]


async def test_the_heartbeat_ticks_every_subscriber_once_an_interval(
        autojump_clock: trio.testing.MockClock) -> None:
    fanout = Fanout()
    with ExitStack() as stack:
        subscriptions = [stack.enter_context(fanout.subscribe("s", 1))
                         for _ in range(SUBSCRIBERS)]
        async with trio.open_nursery() as nursery:
            nursery.start_soon(fanout.run_heartbeat, 15.0)
            await trio.sleep(15.0 * 3 - 0.001)  # just short of the third round's end
            nursery.cancel_scope.cancel()
        counts = [ticks_queued(s) for s in subscriptions]
    # two whole rounds, and the third round's slices but its last
    assert sorted(set(counts)) == [2, 3]
    assert counts.count(2) == SUBSCRIBERS // TICK_SLICES
