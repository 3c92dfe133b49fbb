"""A server killed with SIGKILL mid-session resumes it on restart, with the same log."""

from __future__ import annotations

import signal

import httpx

from livesim.db.bridge import Database
from tests.support.api import all_events, eventually, session_body, wait_seq, wait_status
from tests.support.processes import free_port, ready, schema_url, server_process
from tests.support.server import insert_candles
from tests.support.stubs import candle_series


async def test_restart_after_sigkill_finishes_with_uninterrupted_log(
        db: Database, database_url: str, schema_name: str) -> None:
    await insert_candles(db, "TEST", "1m", candle_series(120))
    url = schema_url(database_url, schema_name)
    port = free_port()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}",
                                 headers={"X-Dev-User": "alice"}, timeout=10) as client:
        async with server_process(url, port) as first:
            await eventually(lambda: ready(client), within_s=30)
            paced = (await client.post("/api/sim/sessions",
                                       json=session_body(speed=1200))).json()["id"]
            await wait_seq(client, paced, 40)
            first.send_signal(signal.SIGKILL)
            await first.wait()
        cut = await db.fetch_sql("SELECT max(seq) AS seq FROM sim_events")
        assert cut[0]["seq"] >= 40
        async with server_process(url, port):
            await eventually(lambda: ready(client), within_s=30)
            final = await wait_status(client, paced, "finished")
            reference = (await client.post("/api/sim/sessions", json=session_body())).json()["id"]
            await wait_status(client, reference, "finished")
            resumed_log = await all_events(client, paced)
            assert final["lastSeq"] == len(resumed_log) > cut[0]["seq"]
            assert [e["seq"] for e in resumed_log] == list(range(1, len(resumed_log) + 1))
            assert resumed_log == await all_events(client, reference)
