"""Prototypes for the write path and the wire, measured: what each option would buy.

None of this is used by the service; it prices the options of issue 11's plan on
the real log of an unpaced sma-cross replay (synthetic 1m candles):

(w) events/s through the bridge into ``sim_events``, batches of the runner's size:
    the runner's ``unnest`` insert (ON CONFLICT DO NOTHING + NOTIFY, as today);
    binary ``COPY`` straight into the table (the unique key still refuses a
    duplicate: a retried batch fails whole, and the caller falls back to the
    idempotent insert), with the NOTIFY in the same transaction; ``COPY`` into a
    temporary table and ``INSERT ... SELECT ... ON CONFLICT`` from it; each with
    ``synchronous_commit`` on and off.
(x) bytes per event on the wire: SSE frames as today, with floats rounded to fixed
    decimals (prices and quantities to the instrument's, money to cents or to 6
    decimals), and with the envelope's repeated seq/type/ts dropped; and what
    encoding costs each way.
(y) the create path's pieces: one bridge round trip, and loading the candles.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import trio

from livesim.benchmarks.harness import NOISE_NOTE, START_MS, bench_schema, load_market, median
from livesim.db.bridge import Database, Executor, open_database
from livesim.eventlog import LogRecord, record_from_event
from livesim.market.store import load_candles
from livesim.market.synthetic import generate_candles
from livesim.runner.session import MAX_BATCH_EVENTS
from livesim.runner.store import Lease, batches_params
from livesim.server import database_url
from livesim.sim.engine import build_engine
from livesim.sim.events import canonical_json

# the scratch sessions' owner, so the runner's fenced statement accepts their rows
BENCH_LEASE = Lease(str(uuid.uuid4()), 1)
MINUTE_MS = 60_000
CONFIG = {"fast": 10, "slow": 30, "sizeFraction": 0.95, "commission": 0.001}
PRICE_KEYS = frozenset({"open", "high", "low", "close", "price", "entryPrice", "exitPrice"})
QTY_KEYS = frozenset({"volume", "qty", "positionQty"})


def make_log(candles: int) -> list[LogRecord]:
    """The events of an unpaced sma-cross replay over synthetic 1m candles."""
    series = generate_candles("1m", START_MS, START_MS + candles * MINUTE_MS, seed=11)
    engine = build_engine("sma-cross", CONFIG, timeframe="1m", candle_count=len(series))
    events = [event for candle in series for event in engine.step(candle)]
    return [record_from_event(seq, event) for seq, event in enumerate(events, start=1)]


async def _new_session(db: Database) -> str:
    session_id = str(uuid.uuid4())
    # the owner holds its lease, so no server adopts the scratch session meanwhile
    await db.run("renew-process-lease", owner=BENCH_LEASE.owner, ttl_s=3600.0, host="bench",
                 pid=0)
    await db.execute_sql(
        "INSERT INTO sim_sessions (id, user_id, profile_slug, symbol, timeframe, start_ms,"
        " end_ms, speed, config, status, owner, epoch) VALUES ($1, 'bench-write', 'sma-cross',"
        " 'X', '1m', 0, 1, 'max', '{}', 'running', $2, 1)", session_id, BENCH_LEASE.owner)
    return session_id


async def _unnest(tx: Executor, session_id: str, batch: list[LogRecord]) -> None:
    # the runner's fenced statement, on the prototype's connection
    await tx.run("append-events", **batches_params([(session_id, BENCH_LEASE, batch)]))


def _rows(session_id: str, batch: list[LogRecord]) -> list[tuple[Any, ...]]:
    sid = uuid.UUID(session_id)
    return [(sid, r.seq, r.ts, r.type, r.payload_json) for r in batch]


async def _copy_rows(tx: Executor, table: str, session_id: str,
                     batch: list[LogRecord]) -> None:
    # what a ``copy_records`` method of db/bridge.py's Executor would do
    conn: Any = tx._target
    await tx._database.call(partial(
        conn.copy_records_to_table, table, records=_rows(session_id, batch),
        columns=["session_id", "seq", "ts", "type", "payload"]))


async def _copy(tx: Executor, session_id: str, batch: list[LogRecord]) -> None:
    await _copy_rows(tx, "sim_events", session_id, batch)
    await tx.execute_sql("SELECT pg_notify('livesim_events', $1)",
                         f"{session_id}:{batch[-1].seq}")


async def _copy_via_temp(tx: Executor, session_id: str, batch: list[LogRecord]) -> None:
    await tx.execute_sql(
        "CREATE TEMP TABLE IF NOT EXISTS staged_events"
        " (session_id uuid, seq bigint, ts bigint, type text, payload json)"
        " ON COMMIT DELETE ROWS")
    await _copy_rows(tx, "staged_events", session_id, batch)
    await tx.execute_sql(
        "INSERT INTO sim_events (session_id, seq, ts, type, payload)"
        " SELECT session_id, seq, ts, type, payload FROM staged_events"
        " ON CONFLICT (session_id, seq) DO NOTHING")
    await tx.execute_sql("SELECT pg_notify('livesim_events', $1)",
                         f"{session_id}:{batch[-1].seq}")


Writer = Callable[[Executor, str, list[LogRecord]], Awaitable[None]]
WRITERS: dict[str, Writer] = {"unnest insert (today)": _unnest, "COPY direct": _copy,
                              "COPY via temp + ON CONFLICT": _copy_via_temp}


async def _write_all(db: Database, writer: Writer, records: list[LogRecord],
                     synchronous: bool) -> float:
    session_id = await _new_session(db)
    setting = f"SET LOCAL synchronous_commit = {'on' if synchronous else 'off'}"
    started = time.perf_counter()
    for index in range(0, len(records), MAX_BATCH_EVENTS):
        # one transaction per batch, as the runner commits one statement per batch
        async with db.transaction() as tx:
            await tx.execute_sql(setting)
            await writer(tx, session_id, records[index:index + MAX_BATCH_EVENTS])
    return len(records) / (time.perf_counter() - started)


async def write_options(url: str, records: list[LogRecord], runs: int) -> None:
    print(f"(w) writing {len(records):,} events, batches of {MAX_BATCH_EVENTS:,}, "
          f"median of {runs} (events/s):")
    async with open_database(url) as db:
        figures: dict[tuple[str, bool], list[float]] = {}
        for _ in range(runs):  # interleaved, so load from elsewhere spreads over all
            for name, writer in WRITERS.items():
                for synchronous in (True, False):
                    figures.setdefault((name, synchronous), []).append(
                        await _write_all(db, writer, records, synchronous))
        base = median(figures[("unnest insert (today)", True)])
        for (name, synchronous), rates in figures.items():
            rate = median(rates)
            print(f"    {name:<28} synchronous_commit={'on ' if synchronous else 'off'} "
                  f"{rate:>9,.0f}  ({rate / base:.2f}x)")


def _round_floats(value: Any, key: str, money_decimals: int, instrument_decimals: int) -> Any:
    if isinstance(value, dict):
        return {k: _round_floats(v, k, money_decimals, instrument_decimals)
                for k, v in value.items()}
    if isinstance(value, float):
        decimals = instrument_decimals if key in PRICE_KEYS | QTY_KEYS else money_decimals
        return round(value, decimals)
    return value


def _frame_without_envelope(record: LogRecord) -> str:
    return f"id: {record.seq}\nevent: {record.type}\ndata: {record.payload_json}\n\n"


def wire_options(records: list[LogRecord]) -> None:
    payloads = [json.loads(r.payload_json) for r in records]
    print(f"(x) bytes per event on the wire (SSE frame, no HTTP framing), {len(records):,} "
          "events:")
    today = sum(len(r.sse_frame().encode()) for r in records) / len(records)
    print(f"    today                                     {today:6.1f} B")
    for money in (2, 6):
        rounded = [
            LogRecord(r.seq, r.ts, r.type,
                      canonical_json(_round_floats(p, "", money, instrument_decimals=3)))
            for r, p in zip(records, payloads, strict=True)]
        size = sum(len(r.sse_frame().encode()) for r in rounded) / len(records)
        bare = sum(len(_frame_without_envelope(r).encode()) for r in rounded) / len(records)
        print(f"    prices/qty 3 decimals, money {money} decimals  {size:6.1f} B "
              f"({size / today:.2f}x); without the envelope's seq/ts/type {bare:6.1f} B "
              f"({bare / today:.2f}x)")
    started = time.process_time()
    for payload in payloads:
        canonical_json(payload)
    plain = time.process_time() - started
    started = time.process_time()
    for payload in payloads:
        canonical_json(_round_floats(payload, "", 6, 3))
    rounding = time.process_time() - started
    print(f"    encode cost: {plain / len(payloads) * 1e6:.2f} us/event as today, "
          f"{rounding / len(payloads) * 1e6:.2f} us with rounding in Python "
          f"(CPU time; rounding belongs where the values are made, in sim/)")


async def create_pieces(url: str) -> None:
    async with open_database(url) as db:
        trips = []
        for _ in range(200):
            started = time.perf_counter()
            await db.execute_sql("SELECT 1")
            trips.append(time.perf_counter() - started)
        print(f"(y) one bridge round trip (SELECT 1): median {median(trips) * 1000:.2f} ms")
        for count in (2_100, 100_000):
            loads = []
            for _ in range(3):
                started = time.perf_counter()
                candle_set = await load_candles(db, "WRITE", "1m", START_MS,
                                                START_MS + count * MINUTE_MS)
                loads.append(time.perf_counter() - started)
            print(f"    load_candles of {len(candle_set.candles):,} candles: "
                  f"median {median(loads) * 1000:.0f} ms")


async def bench(url: str, candles: int, runs: int) -> None:
    records = make_log(candles)
    wire_options(records)
    async with bench_schema(url) as schema_url:
        await load_market(schema_url, "WRITE", "1m", generate_candles(
            "1m", START_MS, START_MS + 100_000 * MINUTE_MS, seed=11))
        await write_options(schema_url, records, runs)
        await create_pieces(schema_url)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candles", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    from livesim.config import Settings

    print(f"livesim write-path and wire prototypes; {NOISE_NOTE}")
    trio.run(bench, database_url(Settings.from_env(check=False)), args.candles, args.runs)


if __name__ == "__main__":
    main()
