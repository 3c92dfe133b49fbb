"""PostgreSQL restarted under running sessions: an outage, never a failure.

Each test ends with the final log equal to a clean run's, exactly one terminal event
and nothing after it, the status consistent with the last event, a healthy process,
and controls delivered after recovery.
"""

from __future__ import annotations

import httpx
import pytest
import trio

from livesim.db.bridge import Database
from tests.support.api import all_events, eventually, read_stream, session_body
from tests.support.cluster import Cluster
from tests.support.faults import check_log, post_when_up, wait_until
from tests.support.processes import free_port, ready, schema_url, served, server_process
from tests.support.server import insert_candles
from tests.support.stubs import candle_series

SESSIONS = "/api/sim/sessions"


async def _reference_log(client: httpx.AsyncClient) -> list[dict[str, object]]:
    reference = (await post_when_up(client, SESSIONS, session_body())).json()["id"]
    await wait_until(client, reference, status="finished")
    return await all_events(client, reference)


async def _controls_work(client: httpx.AsyncClient) -> None:
    session_id = (await post_when_up(client, SESSIONS, session_body(speed=600))).json()["id"]
    await wait_until(client, session_id, min_seq=4)
    control = f"{SESSIONS}/{session_id}/control"
    assert (await post_when_up(client, control, {"action": "pause"})).json()["status"] == "paused"
    assert (await post_when_up(client, control, {"action": "resume"})).json()["status"] \
        == "running"
    stopped = (await post_when_up(client, control, {"action": "stop"})).json()
    assert stopped["status"] == "stopped"
    check_log(await all_events(client, session_id), "stopped")


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_restart_mid_session_one_process_finishes_with_clean_log(
        cluster: Cluster, fault_db: Database, schema_name: str, mode: str) -> None:
    await insert_candles(fault_db, "TEST", "1m", candle_series(120))
    port = free_port()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}",
                                 headers={"X-Dev-User": "alice"}, timeout=10) as client, \
            server_process(schema_url(cluster.url, schema_name), port) as process:
        await eventually(lambda: ready(client), within_s=30)
        session_id = (await client.post(SESSIONS, json=session_body(speed=1200))).json()["id"]
        streamed: list[tuple[str, str, str]] = []
        async with trio.open_nursery() as nursery:
            async def stream() -> None:  # one stream open across the outage
                streamed.extend(await read_stream(client, session_id))

            nursery.start_soon(stream)
            await wait_until(client, session_id, min_seq=30)
            await trio.to_thread.run_sync(cluster.restart, mode)
            final = await wait_until(client, session_id, status="finished")
        assert process.returncode is None
        assert (await client.get("/healthz")).status_code == 200
        events = await all_events(client, session_id)
        check_log(events, final["status"])
        assert [int(i) for i, _, _ in streamed] == [e["seq"] for e in events]
        assert events == await _reference_log(client)
        await _controls_work(client)


async def test_restart_with_two_processes_keeps_one_writer_and_shared_streams(
        cluster: Cluster, fault_db: Database, schema_name: str) -> None:
    await insert_candles(fault_db, "TEST", "1m", candle_series(120))
    async with served(schema_url(cluster.url, schema_name), 2) as (first, second):
        a, b = first.client, second.client
        session_id = (await a.post(SESSIONS, json=session_body(speed=1200))).json()["id"]
        streamed: list[tuple[str, str, str]] = []
        async with trio.open_nursery() as nursery:
            async def stream_from_b() -> None:
                streamed.extend(await read_stream(b, session_id))

            nursery.start_soon(stream_from_b)
            await wait_until(b, session_id, min_seq=30)
            await trio.to_thread.run_sync(cluster.restart, "immediate")
            final = await wait_until(b, session_id, status="finished")
        events = await all_events(b, session_id)
        check_log(events, final["status"])
        assert [int(i) for i, _, _ in streamed] == [e["seq"] for e in events]
        assert events == await _reference_log(a)
        for client in (a, b):
            assert (await client.get("/healthz")).status_code == 200
        await _controls_work(b)


async def test_create_during_outage_is_503_and_leaves_nothing(
        cluster: Cluster, fault_db: Database, schema_name: str) -> None:
    await insert_candles(fault_db, "TEST", "1m", candle_series(120))
    port = free_port()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}",
                                 headers={"X-Dev-User": "alice"}, timeout=10) as client, \
            server_process(schema_url(cluster.url, schema_name), port):
        await eventually(lambda: ready(client), within_s=30)
        await trio.to_thread.run_sync(cluster.stop, "fast")
        try:
            for _ in range(3):
                response = await client.post(SESSIONS, json=session_body(speed=600))
                assert response.status_code == 503
                assert response.headers["Retry-After"]
            assert (await client.get("/readyz")).status_code == 503
            assert (await client.get("/healthz")).status_code == 200  # alive, riding it out
        finally:
            await trio.to_thread.run_sync(cluster.start)
        await eventually(lambda: ready(client), within_s=30)
        listed = (await client.get(SESSIONS)).json()["sessions"]
        assert listed == []
        await _controls_work(client)
