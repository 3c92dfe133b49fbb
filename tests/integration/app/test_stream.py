"""SSE through a real hypercorn: the backlog/live seam, reconnects, heartbeats, the end."""

from __future__ import annotations

import json
from contextlib import aclosing

import httpx
import pytest

from livesim.config import Settings
from tests.support.api import MINUTE, all_events, read_stream, session_body, wait_status
from tests.support.server import TEST_SETTINGS, Server, insert_candles
from tests.support.stubs import START_MS, candle_series


def as_stored(events: list[dict[str, object]]) -> list[tuple[str, str, str]]:
    return [(str(e["seq"]), str(e["type"]),
             json.dumps(e, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
            for e in events]


async def test_stream_from_start_of_running_session_has_no_gap_or_duplicate(
        client: httpx.AsyncClient) -> None:
    # 1m candles at 3000x: 20 ms apart, so the stream joins mid-session
    session_id = (await client.post("/api/sim/sessions",
                                    json=session_body(speed=3000))).json()["id"]
    received = await read_stream(client, session_id)
    assert [int(i) for i, _, _ in received] == list(range(1, len(received) + 1))
    assert received[-1][1] == "session_finished"
    assert received == as_stored(await all_events(client, session_id))


async def test_stream_reconnect_with_last_event_id_delivers_each_event_once(
        client: httpx.AsyncClient) -> None:
    session_id = (await client.post("/api/sim/sessions",
                                    json=session_body(speed=3000))).json()["id"]
    first = await read_stream(client, session_id, limit=25)
    rest = await read_stream(client, session_id, headers={"Last-Event-ID": first[-1][0]},
                             params={"fromSeq": 1})  # Last-Event-ID wins over fromSeq
    received = first + rest
    assert [int(i) for i, _, _ in received] == list(range(1, len(received) + 1))
    assert received == as_stored(await all_events(client, session_id))


async def test_stream_from_seq_starts_there(client: httpx.AsyncClient) -> None:
    session_id = (await client.post("/api/sim/sessions", json=session_body())).json()["id"]
    await wait_status(client, session_id, "finished")
    received = await read_stream(client, session_id, params={"fromSeq": 10})
    assert received[0][0] == "10"


async def test_stream_of_ended_session_with_nothing_newer_is_204(
        client: httpx.AsyncClient) -> None:
    session_id = (await client.post("/api/sim/sessions", json=session_body())).json()["id"]
    final = await wait_status(client, session_id, "finished")
    response = await client.get(f"/api/sim/sessions/{session_id}/stream",
                                headers={"Last-Event-ID": str(final["lastSeq"])})
    assert response.status_code == 204


async def test_stream_paused_session_sends_heartbeats(client: httpx.AsyncClient) -> None:
    session_id = (await client.post("/api/sim/sessions",
                                    json=session_body(speed=60))).json()["id"]
    await client.post(f"/api/sim/sessions/{session_id}/control", json={"action": "pause"})
    lines: list[str] = []
    async with client.stream("GET", f"/api/sim/sessions/{session_id}/stream") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        async with aclosing(response.aiter_lines()) as stream_lines:
            async for line in stream_lines:
                lines.append(line)
                if line.startswith(": heartbeat"):
                    break
        await response.aclose()
    assert lines[0] == "retry: 2000"
    assert "id: 1" in lines
    await client.post(f"/api/sim/sessions/{session_id}/control", json={"action": "stop"})


@pytest.fixture
def settings() -> Settings:
    # a tiny live buffer (events), so a reader that stalls is cut from the live feed at once
    return TEST_SETTINGS.with_changes(subscriber_buffer=8)


async def test_stream_stalled_subscriber_catches_up_without_slowing_runner(
        server: Server, client: httpx.AsyncClient) -> None:
    await insert_candles(server.db, "LONG", "1m", candle_series(3000, seed=3))
    session_id = (await client.post("/api/sim/sessions", json=session_body(
        symbol="LONG", endMs=START_MS + 3000 * MINUTE, speed=60_000))).json()["id"]
    received: list[tuple[str, str, str]] = []
    async with client.stream("GET", f"/api/sim/sessions/{session_id}/stream") as response, \
            aclosing(response.aiter_lines()) as lines:
        # read one line, then nothing until the session has finished
        await lines.__anext__()
        await wait_status(client, session_id, "finished", within_s=30)
        assert server.services.fanout.overflows >= 1
        event: dict[str, str] = {}
        async for line in lines:
            if line.startswith(("id: ", "event: ", "data: ")):
                key, _, value = line.partition(": ")
                event[key] = value
            elif line == "" and event:
                received.append((event["id"], event["event"], event["data"]))
                event = {}
                if received[-1][1] == "session_finished":
                    break
        await response.aclose()
    assert received == as_stored(await all_events(client, session_id))
