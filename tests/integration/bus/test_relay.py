"""The relay: another process's commits read once for every local stream."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import trio
import trio.testing

from livesim.app.sse import stream_events
from livesim.bus.fanout import Fanout
from livesim.bus.relay import Relay
from livesim.db.bridge import Database
from livesim.eventlog import LogRecord
from livesim.runner.store import Lease, append_alone

OWNER = str(uuid.uuid4())
STREAMS = 30
COMMITS = 12


async def live_session(db: Database) -> str:
    session_id = str(uuid.uuid4())
    await db.execute_sql(
        "INSERT INTO sim_sessions (id, user_id, profile_slug, symbol, timeframe, start_ms,"
        " end_ms, speed, config, status, owner, epoch) VALUES ($1, 'u', 'sma-cross', 'X',"
        " '1m', 0, 60000, '60', '{}', 'running', $2, 1)", session_id, OWNER)
    return session_id


def commit(number: int) -> list[LogRecord]:
    """Commit ``number`` (from 0): two events, the last commit ending the log."""
    first = number * 2 + 1
    last_type = "session_finished" if number == COMMITS - 1 else "equity"
    return [LogRecord(first, first, "candle", f'{{"n":{first}}}'),
            LogRecord(first + 1, first + 1, last_type, f'{{"n":{first + 1}}}')]


async def test_relay_streams_of_a_remote_session_get_every_event_from_one_read_per_commit(
        db: Database) -> None:
    session_id = await live_session(db)
    fanout = Fanout(buffer=1000)
    relay = Relay(db, fanout)
    received: list[list[str]] = [[] for _ in range(STREAMS)]
    log_reads = count_log_reads(db)

    async def stream(index: int) -> None:
        async for chunk in stream_events(db, fanout, session_id, 1):
            received[index].append(chunk)

    with trio.fail_after(20):  # a stream left waiting would hang here
        async with trio.open_nursery() as nursery:
            await nursery.start(relay.run)
            async with trio.open_nursery() as streams:
                for index in range(STREAMS):
                    streams.start_soon(stream, index)
                await trio.testing.wait_all_tasks_blocked()
                for number in range(COMMITS):  # "another process" commits; NOTIFY arrives
                    records = commit(number)
                    await append_alone(db, session_id, Lease(OWNER, 1), records)
                    relay.notified(session_id, records[-1].seq)
                    await trio.testing.wait_all_tasks_blocked()
            nursery.cancel_scope.cancel()

    expected = [f"id: {seq}" for seq in range(1, COMMITS * 2 + 1)]
    for chunks in received:
        assert [line for line in "".join(chunks).splitlines() if line.startswith("id: ")] \
            == expected
    # Each stream read the (empty) log once as it started; every commit after, the
    # first one too, was read by the relay once for all streams (two may share a read).
    assert 1 <= relay.reads <= COMMITS
    assert log_reads() == STREAMS + relay.reads


def count_log_reads(db: Database) -> Callable[[], int]:
    """Count ``select-events`` runs on ``db`` from now on, whoever makes them."""
    reads = 0
    run = db.run

    async def counting_run(name: str, **params: object) -> Any:
        nonlocal reads
        reads += name == "select-events"
        return await run(name, **params)

    db.run = counting_run  # type: ignore[method-assign]
    return lambda: reads
