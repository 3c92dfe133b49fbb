"""Regression guard: the pipeline keeps at least half the bare-insert rate.

The pipeline is everything a user waits for in an unpaced replay: the create over
HTTP, the runner computing and writing every event durably, and one SSE client
reading the stream to its last byte, against a server process of its own (as in
``just bench``).  The ceiling is the same rows written by a
bare loop with the runner's own idempotent statement and batch size, on the same
database in the same test.  Both are rates on the same machine at the same moment,
so the assertion is a ratio, not a time; each side keeps the best of two rounds
(alternating), so a burst of load from elsewhere does not decide the verdict.
"""

from __future__ import annotations

import time

from livesim.benchmarks.harness import (
    ServerProcess,
    StreamReader,
    read_log,
    server_process,
    write_ceiling,
)
from livesim.db.bridge import Database
from livesim.market.store import upsert_candles
from livesim.market.synthetic import generate_candles
from livesim.sim.candles import timeframe_ms

CANDLES = 10_000  # ~21k events: a few seconds on a busy 2-core machine
ROUNDS = 2
MIN_RATIO = 0.5
START_MS = 1_577_836_800_000


async def _pipeline_rate(server: ServerProcess) -> tuple[float, str, int]:
    """Events/s from the create request to the last byte of the stream at one client."""
    end_ms = START_MS + CANDLES * timeframe_ms("1m")
    reader = StreamReader()
    async with server.client() as client:
        started = time.perf_counter()
        response = await client.post("/api/sim/sessions", json={
        "profileSlug": "sma-cross", "symbol": "GUARD", "timeframe": "1m", "startMs": START_MS,
            "endMs": end_ms, "speed": "max", "config": {"fast": 10, "slow": 30}})
        assert response.status_code == 201, response.text
        session_id = response.json()["id"]
        await reader.run("127.0.0.1", server.port, f"/api/sim/sessions/{session_id}/stream")
        elapsed = reader.last_byte - started
        events = (await client.get(f"/api/sim/sessions/{session_id}")).json()["lastSeq"]
    assert reader.complete(events), "the stream missed events"
    return events / elapsed, session_id, events


async def test_pipeline_events_per_second_at_least_half_the_bare_insert_ceiling(
        db: Database, database_url: str, schema_name: str) -> None:
    candles = generate_candles("1m", START_MS, START_MS + CANDLES * timeframe_ms("1m"), seed=5)
    await upsert_candles(db, "GUARD", "1m", candles)
    separator = "&" if "?" in database_url else "?"
    pipeline, ceiling = [], []
    async with server_process(f"{database_url}{separator}search_path={schema_name}") as server:
        for _ in range(ROUNDS):
            rate, session_id, events = await _pipeline_rate(server)
            pipeline.append(rate)
            records = await read_log(db, session_id)
            assert len(records) == events > 2 * CANDLES
            ceiling.append(len(records) / await write_ceiling(db, session_id, records))
    ratio = max(pipeline) / max(ceiling)
    print(f"pipeline {max(pipeline):,.0f} events/s, bare insert {max(ceiling):,.0f} events/s, "
          f"ratio {ratio:.2f}")
    assert ratio >= MIN_RATIO, (
        f"the pipeline ({max(pipeline):,.0f} events/s) fell below {MIN_RATIO} x the bare "
        f"insert ceiling ({max(ceiling):,.0f} events/s): ratio {ratio:.2f}")
