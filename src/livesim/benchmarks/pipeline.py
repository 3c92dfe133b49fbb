"""``just bench``: throughput and fan-out of the whole pipeline on a real PostgreSQL.

(a) an unpaced sma-cross session over 100k candles, served by a real server
    process: events/s until durable, and until delivered to one SSE subscriber;
(b) the ceiling: the same rows written by a bare loop with the same idempotent
    ``INSERT ... SELECT FROM unnest(...) ON CONFLICT`` statement; the ratio a/b;
Fan-out to many subscribers and paced sessions at scale: :mod:`livesim.benchmarks.paced`.

The server runs as a separate process (``python -m livesim serve``) in a fresh
schema, so its memory is measured apart from the clients'.  Figures are medians
where a run repeats; machines here are noisy, so read ratios, not absolutes.
"""

from __future__ import annotations

import gc
import json
import time

import httpx
import trio

from livesim.benchmarks.harness import (
    START_MS,
    StreamReader,
    bench_schema,
    load_market,
    read_log,
    server_process,
    write_ceiling,
)
from livesim.config import Settings
from livesim.db.bridge import open_database
from livesim.market.synthetic import generate_candles
from livesim.server import database_url

MINUTE_MS = 60_000
BIG_SESSION_CANDLES = 100_000


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


def main() -> None:
    # The clients share this process: keep the cyclic GC's pauses out of their timings.
    gc.disable()
    settings = Settings.from_env(check=False)
    url = database_url(settings)
    print(f"livesim pipeline benchmark on {json.dumps(url.split('@')[-1])}")
    trio.run(bench, url)


if __name__ == "__main__":
    main()
