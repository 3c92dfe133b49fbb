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
import statistics
import time

import httpx
import trio

from livesim.benchmarks.harness import (
    START_MS,
    StreamReader,
    bench_schema,
    load_market,
    read_log,
    rss_kib,
    server_process,
    write_ceiling,
)
from livesim.config import Settings
from livesim.db.bridge import open_database
from livesim.market.synthetic import generate_candles
from livesim.server import database_url

MINUTE_MS = 60_000
BIG_SESSION_CANDLES = 100_000
FANOUT_SUBSCRIBERS = 1_000
# (speed, candles): 1m candles at 120x is 2 candles/s, a brisk "as if live" replay;
# 600x (10 candles/s, ~10k socket writes/s for 1,000 subscribers) is the stress row.
FANOUT_RUNS = ((120, 40), (600, 150))


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
    async with bench_schema(url) as schema_url:
        await _bench_in_schema(schema_url)


async def _bench_in_schema(schema_url: str) -> None:
    candles = generate_candles("1m", START_MS, START_MS + BIG_SESSION_CANDLES * MINUTE_MS,
                               seed=11)
    await load_market(schema_url, "BENCH", "1m", candles)
    async with server_process(schema_url) as server, server.client() as client:
        port = server.port
        durable_rate, delivered_rate, events, session_id = await _unpaced(client, port)
        ceiling = await _ceiling(schema_url, session_id)
        print(f"(a) unpaced sma-cross, {BIG_SESSION_CANDLES:,} candles, {events:,} events:")
        print(f"    durable   {durable_rate:>10,.0f} events/s")
        print(f"    delivered {delivered_rate:>10,.0f} events/s (one SSE subscriber)")
        print(f"(b) bare insert loop, same rows and statement: {ceiling:>10,.0f} events/s")
        print(f"    ratio a/b (durable): {durable_rate / ceiling:.2f}   (target >= 0.5)")
        for speed, count in FANOUT_RUNS:
            await _fanout(client, port, server.pid, schema_url, speed, count)


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
        records = await read_log(db, session_id)
        return len(records) / await write_ceiling(db, session_id, records)


async def _fanout(client: httpx.AsyncClient, port: int, pid: int, url: str, speed: int,
                  candles: int) -> None:
    session_id = await _create(client, candles, speed)
    await client.post(f"/api/sim/sessions/{session_id}/control", json={"action": "pause"})
    commits: dict[int, float] = {}
    readers = [StreamReader() for _ in range(FANOUT_SUBSCRIBERS)]
    rss_before = rss_kib(pid)
    async with open_database(url) as db, trio.open_nursery() as nursery:
        async def record_commits(task_status: trio.TaskStatus[None]) -> None:
            async with db.listen("livesim_events") as notes:
                task_status.started()
                async for note in notes:
                    sid, _, seq = note.partition(":")
                    if sid == session_id:
                        commits.setdefault(int(seq), time.perf_counter())

        await nursery.start(record_commits)
        for reader in readers:
            nursery.start_soon(reader.run, "127.0.0.1", port,
                               f"/api/sim/sessions/{session_id}/stream")
        for reader in readers:
            await reader.connected.wait()
        rss_connected = rss_kib(pid)
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
