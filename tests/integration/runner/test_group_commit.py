"""Group commit against a real PostgreSQL: many runners' batches, one statement each."""

from __future__ import annotations

import uuid

import pytest
import trio

from livesim.db.bridge import Database
from livesim.errors import Unavailable
from livesim.eventlog import LogRecord
from livesim.runner.group_commit import GroupCommit
from livesim.runner.store import Lease, LostOwnership

OWNER = str(uuid.uuid4())


async def live_session(db: Database, epoch: int = 1) -> str:
    session_id = str(uuid.uuid4())
    await db.execute_sql(
        "INSERT INTO sim_sessions (id, user_id, profile_slug, symbol, timeframe, start_ms,"
        " end_ms, speed, config, status, owner, epoch) VALUES ($1, 'u', 'sma-cross', 'X',"
        " '1m', 0, 60000, '60', '{}', 'running', $2, $3)", session_id, OWNER, epoch)
    return session_id


def batch(first_seq: int, count: int) -> list[LogRecord]:
    return [LogRecord(seq, seq * 1000, "candle", f'{{"n":{seq}}}')
            for seq in range(first_seq, first_seq + count)]


async def logged(db: Database, session_id: str) -> list[tuple[int, str]]:
    rows = await db.fetch_sql("SELECT seq, payload::text AS payload FROM sim_events"
                              " WHERE session_id = $1 ORDER BY seq", session_id)
    return [(row["seq"], row["payload"]) for row in rows]


async def test_group_commit_many_runners_share_statements_and_keep_each_log_whole(
        db: Database) -> None:
    group = GroupCommit(db)
    sessions = [await live_session(db) for _ in range(40)]

    async def runner(session_id: str) -> None:
        for first in (1, 4, 7):  # one batch in flight at a time, as a runner does
            await group.append(session_id, Lease(OWNER, 1), batch(first, 3))

    async with trio.open_nursery() as nursery:
        await nursery.start(group.run)
        async with trio.open_nursery() as runners:
            for session_id in sessions:
                runners.start_soon(runner, session_id)
        nursery.cancel_scope.cancel()
    for session_id in sessions:
        assert await logged(db, session_id) == [(seq, f'{{"n":{seq}}}') for seq in range(1, 10)]
    assert group.statements < len(sessions) * 3 / 4  # batches were grouped


async def test_group_commit_lost_or_bad_batch_fails_alone_and_the_others_land(
        db: Database) -> None:
    group = GroupCommit(db)
    ours, taken_over, broken = (await live_session(db), await live_session(db, epoch=2),
                                await live_session(db))
    outcomes: dict[str, object] = {}

    async def append(session_id: str, records: list[LogRecord]) -> None:
        try:
            await group.append(session_id, Lease(OWNER, 1), records)
            outcomes[session_id] = "written"
        except Exception as error:
            outcomes[session_id] = error

    not_json = [LogRecord(1, 1000, "candle", "{not json")]
    async with trio.open_nursery() as nursery:
        await nursery.start(group.run)
        async with trio.open_nursery() as runners:  # queued together: one group
            runners.start_soon(append, ours, batch(1, 2))
            runners.start_soon(append, taken_over, batch(1, 2))
            runners.start_soon(append, broken, not_json)
        nursery.cancel_scope.cancel()
    assert outcomes[ours] == "written"
    assert isinstance(outcomes[taken_over], LostOwnership)
    assert not isinstance(outcomes[broken], LostOwnership | Unavailable)
    assert await logged(db, ours) == [(1, '{"n":1}'), (2, '{"n":2}')]
    assert await logged(db, taken_over) == []
    assert await logged(db, broken) == []


async def test_group_commit_after_shutdown_answers_unavailable(db: Database) -> None:
    group = GroupCommit(db)
    session_id = await live_session(db)
    async with trio.open_nursery() as nursery:
        await nursery.start(group.run)
        nursery.cancel_scope.cancel()
    with pytest.raises(Unavailable):
        await group.append(session_id, Lease(OWNER, 1), batch(1, 1))
