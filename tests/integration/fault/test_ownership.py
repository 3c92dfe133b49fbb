"""Ownership under faults: a frozen owner that comes back never writes again, and a
server killed at random points leaves a log its successor finishes exactly."""

from __future__ import annotations

import os
import random
import signal

import httpx
import trio

from livesim.db.bridge import Database
from tests.support.api import all_events, eventually, session_body
from tests.support.cluster import Cluster
from tests.support.faults import check_log, post_when_up, wait_until
from tests.support.processes import free_port, ready, schema_url, served, server_process
from tests.support.server import insert_candles
from tests.support.stubs import candle_series

SESSIONS = "/api/sim/sessions"


async def test_frozen_owner_is_fenced_after_takeover(
        cluster: Cluster, fault_db: Database, schema_name: str) -> None:
    await insert_candles(fault_db, "TEST", "1m", candle_series(120))
    async with served(schema_url(cluster.url, schema_name), 2) as (first, second):
        a, b, process_a = first.client, second.client, first.process
        session_id = (await a.post(SESSIONS, json=session_body(speed=600))).json()["id"]
        frozen_at = (await wait_until(b, session_id, min_seq=20))["lastSeq"]
        process_a.send_signal(signal.SIGSTOP)
        # B finds A's lease expired, takes the session over and carries on
        await wait_until(b, session_id, min_seq=frozen_at + 10)
        stopped = await post_when_up(b, f"{SESSIONS}/{session_id}/control", {"action": "stop"})
        assert stopped.json()["status"] == "stopped"
        ended = await all_events(b, session_id)
        process_a.send_signal(signal.SIGCONT)
        # A's runner wakes believing it still runs the session: its next write is refused
        await trio.sleep(2.0)
        await eventually(lambda: ready(a), within_s=10)
        assert (await a.get("/healthz")).status_code == 200
        events = await all_events(a, session_id)
        assert events == ended, "a fenced owner wrote after the takeover"
        check_log(events, (await wait_until(a, session_id))["status"])
        reference = (await post_when_up(a, SESSIONS, session_body())).json()["id"]
        await wait_until(a, reference, status="finished")
        assert events[:-1] == (await all_events(a, reference))[:len(events) - 1]


async def test_kill_at_random_points_resumes_to_the_clean_log(
        cluster: Cluster, fault_db: Database, schema_name: str) -> None:
    seed = int(os.environ.get("LIVESIM_FAULT_SEED") or random.randrange(1 << 30))
    rng = random.Random(seed)
    await insert_candles(fault_db, "TEST", "1m", candle_series(120))
    url = schema_url(cluster.url, schema_name)
    port = free_port()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}",
                                 headers={"X-Dev-User": "alice"}, timeout=10) as client:
        session_ids = []
        for kill in range(3):
            async with server_process(url, port) as process:
                await eventually(lambda: ready(client), within_s=30)
                speed = rng.choice([600, 1200, "max"])
                session_ids.append((await client.post(SESSIONS, json=session_body(
                    speed=speed))).json()["id"])
                await trio.sleep(rng.uniform(0.0, 2.0))
                process.send_signal(signal.SIGKILL)
                await process.wait()
            assert kill >= 0
        async with server_process(url, port):
            await eventually(lambda: ready(client), within_s=30)
            reference = (await client.post(SESSIONS, json=session_body())).json()["id"]
            await wait_until(client, reference, status="finished")
            expected = await all_events(client, reference)
            for session_id in session_ids:
                await wait_until(client, session_id, status="finished")
                events = await all_events(client, session_id)
                check_log(events, "finished")
                assert events == expected, f"seed {seed}"
