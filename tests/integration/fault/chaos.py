"""A soak under faults: ``just chaos`` (``python -m tests.integration.fault.chaos --minutes 10``).

Two servers share a private PostgreSQL.  Sessions are created all along (paced and
unpaced, some stopped by their client), while faults are injected at random: the
database restarted fast or immediately, a server killed with SIGKILL and started
again, a server frozen with SIGSTOP for longer than its lease and then resumed.  At
the end every session must reach a terminal status with a log that equals a clean
run's (or its prefix, ended by ``session_stopped``), exactly one terminal event and
nothing after it.  Prints the counts; exits 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import time
import uuid
from collections import Counter
from contextlib import AsyncExitStack
from typing import Any

import httpx
import trio

from livesim.db.bridge import open_database
from livesim.db.migrate import migrate
from livesim.market.store import upsert_candles
from tests.support.api import all_events, eventually, session_body
from tests.support.cluster import Cluster, server_binaries
from tests.support.faults import check_log, post_when_up, wait_until
from tests.support.processes import free_port, ready, schema_url, server_process
from tests.support.stubs import candle_series

SESSIONS = "/api/sim/sessions"
FAULTS = ("restart-fast", "restart-immediate", "kill", "freeze")


class Server:
    def __init__(self, url: str, stack: AsyncExitStack) -> None:
        self.url, self.port, self._stack = url, free_port(), stack
        self.client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}",
                                        headers={"X-Dev-User": "chaos"}, timeout=10)
        self.process: trio.Process | None = None
        self._scope: AsyncExitStack | None = None

    async def start(self) -> None:
        self._scope = AsyncExitStack()
        self.process = await self._scope.enter_async_context(
            server_process(self.url, self.port))
        await eventually(lambda: ready(self.client), within_s=60)

    async def kill(self) -> None:
        assert self.process is not None
        assert self._scope is not None
        self.process.send_signal(signal.SIGKILL)
        await self._scope.aclose()


async def soak(minutes: float, seed: int) -> int:
    rng = random.Random(seed)
    binaries = server_binaries()
    assert binaries is not None, "needs PostgreSQL's server binaries"
    cluster = Cluster(binaries)
    cluster.start()
    schema = f"chaos_{uuid.uuid4().hex[:8]}"
    faults: Counter[str] = Counter()
    created: list[str] = []
    stop_requested: set[str] = set()
    try:
        async with open_database(cluster.url, max_size=2) as admin:
            await admin.execute_sql(f'CREATE SCHEMA "{schema}"')
        async with open_database(cluster.url, schema=schema, max_size=2) as db:
            await migrate(db)
            await upsert_candles(db, "TEST", "1m", candle_series(120))
        url = schema_url(cluster.url, schema)
        async with AsyncExitStack() as stack:
            servers = [Server(url, stack), Server(url, stack)]
            for server in servers:
                await server.start()
            deadline = time.monotonic() + minutes * 60
            next_fault = time.monotonic() + rng.uniform(2, 6)
            while time.monotonic() < deadline:
                server = rng.choice(servers)
                try:
                    response = await server.client.post(SESSIONS, json=session_body(
                        speed=rng.choice([300, 600, 1200, "max"])))
                    if response.status_code == 201:
                        created.append(response.json()["id"])
                    if created and rng.random() < 0.15:
                        victim = rng.choice(created)
                        answer = await server.client.post(f"{SESSIONS}/{victim}/control",
                                                          json={"action": "stop"})
                        if answer.status_code == 200:
                            stop_requested.add(victim)
                except httpx.TransportError:
                    pass
                if time.monotonic() >= next_fault:
                    fault = rng.choice(FAULTS)
                    faults[fault] += 1
                    target = rng.choice(servers)
                    if fault.startswith("restart"):
                        await trio.to_thread.run_sync(cluster.restart, fault.split("-")[1])
                    elif fault == "kill":
                        await target.kill()
                        await target.start()
                    else:
                        assert target.process is not None
                        target.process.send_signal(signal.SIGSTOP)
                        await trio.sleep(rng.uniform(2.0, 4.0))  # past the 1.5 s lease
                        target.process.send_signal(signal.SIGCONT)
                    next_fault = time.monotonic() + rng.uniform(3, 10)
                await trio.sleep(rng.uniform(0.1, 0.6))
            checker = servers[0].client
            reference_id = (await post_when_up(checker, SESSIONS, session_body())).json()["id"]
            await wait_until(checker, reference_id, status="finished")
            reference = await all_events(checker, reference_id)
            mismatches = 0
            for session_id in created:
                final = await _terminal(checker, session_id)
                events = await all_events(checker, session_id)
                try:
                    check_log(events, final["status"])
                    if final["status"] == "finished":
                        assert events == reference
                    else:
                        assert final["status"] == "stopped"
                        assert session_id in stop_requested
                        assert events[:-1] == reference[:len(events) - 1]
                except AssertionError as error:
                    mismatches += 1
                    print(f"MISMATCH {session_id}: {error}", file=sys.stderr)
            for server in servers:
                await server.client.aclose()
    finally:
        cluster.destroy()
    print(f"chaos: {minutes:g} min, seed {seed}; faults injected: {sum(faults.values())} "
          f"({', '.join(f'{k} {v}' for k, v in sorted(faults.items()))}); sessions checked: "
          f"{len(created)} ({len(stop_requested)} stopped by a client); mismatches: "
          f"{mismatches}")
    return 1 if mismatches else 0


async def _terminal(client: httpx.AsyncClient, session_id: str) -> dict[str, Any]:
    async def ended() -> dict[str, Any] | None:
        body = await wait_until(client, session_id)
        return body if body["status"] in ("finished", "stopped", "failed") else None

    result: dict[str, Any] = await eventually(ended, 120)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int,
                        default=int(os.environ.get("LIVESIM_FAULT_SEED") or time.time()))
    args = parser.parse_args()
    sys.exit(trio.run(soak, args.minutes, args.seed))


if __name__ == "__main__":
    main()
