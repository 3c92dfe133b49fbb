"""Two server processes on one PostgreSQL: one runner per session, SSE and controls
work from either, and a dead process's session is adopted by the survivor."""

from __future__ import annotations

import signal

import httpx
import trio

from livesim.db.bridge import Database
from tests.support.api import (
    all_events,
    eventually,
    last_seq,
    read_stream,
    session_body,
    wait_seq,
    wait_status,
)
from tests.support.processes import free_port, ready, schema_url, server_process
from tests.support.server import insert_candles
from tests.support.stubs import candle_series


async def test_two_processes_share_sessions_streams_and_controls(
        db: Database, database_url: str, schema_name: str) -> None:
    await insert_candles(db, "TEST", "1m", candle_series(120))
    url = schema_url(database_url, schema_name)
    port_a, port_b = free_port(), free_port()
    headers = {"X-Dev-User": "alice"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port_a}", headers=headers,
                                 timeout=10) as a, \
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port_b}", headers=headers,
                              timeout=10) as b, \
            server_process(url, port_a) as process_a, server_process(url, port_b):
        await eventually(lambda: ready(a), within_s=30)
        await eventually(lambda: ready(b), within_s=30)
        session_id = (await a.post("/api/sim/sessions", json=session_body(speed=1200))).json()["id"]
        streamed: list[tuple[str, str, str]] = []
        async with trio.open_nursery() as nursery:
            async def stream_from_b() -> None:
                streamed.extend(await read_stream(b, session_id))

            nursery.start_soon(stream_from_b)
            await wait_seq(b, session_id, 20)
            # a control sent to B reaches the runner in A
            assert (await b.post(f"/api/sim/sessions/{session_id}/control",
                                 json={"action": "pause"})).status_code == 200
            await trio.sleep(0.2)
            held = await last_seq(a, session_id)
            await trio.sleep(0.5)
            assert await last_seq(a, session_id) == held
            await b.post(f"/api/sim/sessions/{session_id}/control", json={"action": "resume"})
            await wait_seq(b, session_id, held + 10)
            # A dies; B adopts the session and finishes it
            process_a.send_signal(signal.SIGKILL)
            await process_a.wait()
            await wait_status(b, session_id, "finished")
        events = await all_events(b, session_id)
        assert [int(i) for i, _, _ in streamed] == list(range(1, len(events) + 1))
        reference = (await b.post("/api/sim/sessions", json=session_body())).json()["id"]
        await wait_status(b, reference, "finished")
        assert events == await all_events(b, reference)
