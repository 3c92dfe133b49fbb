"""``just bench``: throughput and fan-out of the whole pipeline on a real PostgreSQL.

(a) an unpaced sma-cross session over 100k candles, served by a real server
    process: events/s until durable, and until delivered to one SSE subscriber;
(b) the ceiling: the same rows written by a bare loop with the same idempotent
    ``INSERT ... SELECT FROM unnest(...) ON CONFLICT`` statement; the ratio a/b;
(c) 1,000 SSE subscribers on one paced session: deliveries/s, p50/p99 latency
    from commit (the NOTIFY sent in the commit) to each client, and the server's
    memory per subscriber.

The server runs as a separate process (``python -m livesim serve``) in a fresh
schema, so its memory is measured apart from the clients'.  Figures are medians
where a run repeats; machines here are noisy, so read ratios, not absolutes.
"""

from __future__ import annotations

import gc
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import trio

from livesim.config import Settings
from livesim.db.bridge import open_database
from livesim.db.migrate import migrate
from livesim.eventlog import record_from_row
from livesim.market.store import upsert_candles
from livesim.market.synthetic import generate_candles
from livesim.runner.store import Lease, PgEventStore
from livesim.server import database_url

START_MS = 1_577_836_800_000  # 2020-01-01T00:00:00Z
MINUTE_MS = 60_000
BIG_SESSION_CANDLES = 100_000
FANOUT_SUBSCRIBERS = 1_000
# (speed, candles): 1m candles at 120x is 2 candles/s, a brisk "as if live" replay;
# 600x (10 candles/s, ~10k socket writes/s for 1,000 subscribers) is the stress row.
FANOUT_RUNS = ((120, 40), (600, 150))
WRITE_BATCH = 2000
_ID = re.compile(rb"\nid: (\d+)\n")


@dataclass
class StreamReader:
    """A bare-socket SSE client: records when each seq arrived, nothing else."""

    arrivals: dict[int, float] = field(default_factory=dict)
    connected: trio.Event = field(default_factory=trio.Event)
    finished: trio.Event = field(default_factory=trio.Event)

    async def run(self, host: str, port: int, path: str, user: str = "bench") -> None:
        try:
            await self._read(host, port, path, user)
        finally:
            self.finished.set()

    async def _read(self, host: str, port: int, path: str, user: str) -> None:
        stream = await trio.open_tcp_stream(host, port)
        async with stream:
            await stream.send_all(
                f"GET {path} HTTP/1.1\r\nHost: {host}\r\nX-Dev-User: {user}\r\n"
                "Accept: text/event-stream\r\n\r\n".encode())
            buffer = b""
            while True:
                data = await stream.receive_some(65536)
                if not data:
                    return
                now = time.perf_counter()
                if not self.connected.is_set():
                    self.connected.set()
                buffer += data
                last = 0
                for match in _ID.finditer(buffer):
                    self.arrivals.setdefault(int(match.group(1)), now)
                    last = match.end()
                if b"event: session_finished" in buffer or b"event: session_stopped" in buffer:
                    return
                buffer = buffer[max(last - 1, len(buffer) - 64):] if last else buffer[-64:]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def _wait_ready(client: httpx.AsyncClient) -> None:
    with trio.fail_after(60):
        while True:
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await trio.sleep(0.1)


async def _create(client: httpx.AsyncClient, candles: int, speed: object) -> str:
    response = await client.post("/api/sim/sessions", json={
        "profileSlug": "sma-cross", "symbol": "BENCH", "timeframe": "1m", "startMs": START_MS,
        "endMs": START_MS + candles * MINUTE_MS, "speed": speed,
        "config": {"fast": 10, "slow": 30, "commission": 0.001}})
    response.raise_for_status()
    session_id: str = response.json()["id"]
    return session_id


async def _wait_finished(client: httpx.AsyncClient, session_id: str) -> dict[str, object]:
    while True:
        body: dict[str, object] = (await client.get(f"/api/sim/sessions/{session_id}")).json()
        if body["status"] in ("finished", "failed", "stopped"):
            return body
        await trio.sleep(0.01)


async def bench(url: str) -> None:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    async with open_database(url) as admin:
        await admin.execute_sql(f'CREATE SCHEMA "{schema}"')
        try:
            await _bench_in_schema(url, schema)
        finally:
            await admin.execute_sql(f'DROP SCHEMA "{schema}" CASCADE')


async def _bench_in_schema(url: str, schema: str) -> None:
    separator = "&" if "?" in url else "?"
    schema_url = f"{url}{separator}search_path={schema}"
    async with open_database(url, schema=schema) as db:
        await migrate(db)
        candles = generate_candles("1m", START_MS, START_MS + BIG_SESSION_CANDLES * MINUTE_MS,
                                   seed=11)
        await upsert_candles(db, "BENCH", "1m", candles)
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": schema_url, "LIVESIM_PORT": str(port),
           "LIVESIM_AUTH": "dev", "LIVESIM_MAX_SPEED": "100000",
           "LIVESIM_MAX_STREAMS_PER_USER": str(FANOUT_SUBSCRIBERS * 2),
           "LIVESIM_MAX_RUNNING_PER_USER": "100"}
    server = await trio.lowlevel.open_process([sys.executable, "-m", "livesim", "serve"],
                                              env=env, stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}",
                                     headers={"X-Dev-User": "bench"}, timeout=60) as client:
            await _wait_ready(client)
            durable_rate, delivered_rate, events, session_id = await _unpaced(client, port)
            ceiling = await _ceiling(schema_url, session_id)
            print(f"(a) unpaced sma-cross, {BIG_SESSION_CANDLES:,} candles, {events:,} events:")
            print(f"    durable   {durable_rate:>10,.0f} events/s")
            print(f"    delivered {delivered_rate:>10,.0f} events/s (one SSE subscriber)")
            print(f"(b) bare insert loop, same rows and statement: {ceiling:>10,.0f} events/s")
            print(f"    ratio a/b (durable): {durable_rate / ceiling:.2f}   (target >= 0.5)")
            for speed, count in FANOUT_RUNS:
                await _fanout(client, port, server.pid, schema_url, speed, count)
    finally:
        server.terminate()
        with trio.CancelScope(shield=True):
            await server.wait()


async def _unpaced(client: httpx.AsyncClient, port: int) -> tuple[float, float, int, str]:
    reader = StreamReader()
    started = time.perf_counter()
    session_id = await _create(client, BIG_SESSION_CANDLES, "max")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(reader.run, "127.0.0.1", port,
                           f"/api/sim/sessions/{session_id}/stream")
        final = await _wait_finished(client, session_id)
        durable_s = time.perf_counter() - started
    delivered_s = max(reader.arrivals.values()) - started
    events = int(final["lastSeq"])  # type: ignore[call-overload]
    assert sorted(reader.arrivals) == list(range(1, events + 1)), "the subscriber missed events"
    return events / durable_s, events / delivered_s, events, session_id


async def _ceiling(url: str, session_id: str) -> float:
    async with open_database(url) as db:
        rows = await db.fetch_sql(
            "SELECT seq, ts, type, payload::text AS payload FROM sim_events "
            "WHERE session_id = $1 ORDER BY seq", session_id)
        records = [record_from_row(row) for row in rows]
        target, lease = str(uuid.uuid4()), Lease(str(uuid.uuid4()), 1)
        # a live session owned by a lease of our own: the runner's very (fenced) statement
        await db.execute_sql(
            "INSERT INTO sim_sessions (id, user_id, profile_slug, symbol, timeframe, start_ms,"
            " end_ms, speed, config, status, owner, epoch) SELECT $1, user_id, profile_slug,"
            " symbol, timeframe, start_ms, end_ms, speed, config, 'running', $3, $4"
            " FROM sim_sessions WHERE id = $2", target, session_id, lease.owner, lease.epoch)
        store = PgEventStore(db)
        started = time.perf_counter()
        for index in range(0, len(records), WRITE_BATCH):
            await store.append(target, lease, records[index:index + WRITE_BATCH])
        return len(records) / (time.perf_counter() - started)


async def _fanout(client: httpx.AsyncClient, port: int, pid: int, url: str, speed: int,
                  candles: int) -> None:
    session_id = await _create(client, candles, speed)
    await client.post(f"/api/sim/sessions/{session_id}/control", json={"action": "pause"})
    commits: dict[int, float] = {}
    readers = [StreamReader() for _ in range(FANOUT_SUBSCRIBERS)]
    rss_before = _rss_kib(pid)
    async with open_database(url) as db, trio.open_nursery() as nursery:
        async def record_commits(task_status: trio.TaskStatus[None]) -> None:
            async with db.listen("livesim_events") as listener:
                task_status.started()
                async for note in listener.notifications:
                    sid, _, seq = note.partition(":")
                    if sid == session_id:
                        commits.setdefault(int(seq), time.perf_counter())

        await nursery.start(record_commits)
        for reader in readers:
            nursery.start_soon(reader.run, "127.0.0.1", port,
                               f"/api/sim/sessions/{session_id}/stream")
        for reader in readers:
            await reader.connected.wait()
        rss_connected = _rss_kib(pid)
        await client.post(f"/api/sim/sessions/{session_id}/control", json={"action": "resume"})
        started = time.perf_counter()
        final = await _wait_finished(client, session_id)
        events = int(final["lastSeq"])  # type: ignore[call-overload]
        with trio.move_on_after(30):  # a reader that never completes shows in the count below
            for reader in readers:
                await reader.finished.wait()
        elapsed = time.perf_counter() - started
        nursery.cancel_scope.cancel()
    complete = sum(sorted(r.arrivals) == list(range(1, events + 1)) for r in readers)
    # latency of each event committed after resume: arrival - the commit that carried it
    batch_commit = sorted(commits.items())
    latencies = []
    for reader in readers:
        for seq, arrived in reader.arrivals.items():
            commit = next((t for last, t in batch_commit if last >= seq), None)
            if commit is not None and commit >= started:
                latencies.append((arrived - commit) * 1000)
    latencies.sort()
    deliveries = sum(len(r.arrivals) for r in readers)
    print(f"(c) {FANOUT_SUBSCRIBERS} SSE subscribers, session of {candles} 1m candles at "
          f"{speed}x ({speed / 60:g} candles/s, {events} events):")
    print(f"    every event delivered to {complete}/{FANOUT_SUBSCRIBERS} subscribers")
    print(f"    deliveries {deliveries / elapsed:>10,.0f} /s")
    if latencies:
        p50 = statistics.median(latencies)
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        print(f"    commit->client latency p50 {p50:.1f} ms, p99 {p99:.1f} ms (target p99 < 100)")
    print(f"    server memory per subscriber: "
          f"{(rss_connected - rss_before) / FANOUT_SUBSCRIBERS:.1f} KiB "
          f"(RSS {rss_before / 1024:.0f} -> {rss_connected / 1024:.0f} MiB)")


def main() -> None:
    # The clients share this process: keep the cyclic GC's pauses out of their timings.
    gc.disable()
    settings = Settings.from_env(check=False)
    url = database_url(settings)
    print(f"livesim pipeline benchmark on {json.dumps(url.split('@')[-1])}")
    trio.run(bench, url)


if __name__ == "__main__":
    main()
