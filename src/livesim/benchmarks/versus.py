"""livesim against backtesting.py 0.6.6: the same sma-cross on the same candles.

livesim's figure is the whole user-visible job: a ``"max"`` session created over
HTTP against a real server process and PostgreSQL, every event durable, read to
its end over SSE by one client that connects once the create has answered.
backtesting.py's is ``Backtest(...).run()`` on a DataFrame in memory.

Breakdown of a livesim run (medians of several runs):

* create   POST sent -> answer (the server answers once ``session_started`` is durable)
* durable  POST sent -> the terminal event committed (its NOTIFY reached this process)
* stream   first byte -> last byte at the client
* total    POST sent -> last byte at the client; the ratio is total / backtesting.py
* compute  the pure core alone (engine + canonical JSON), in this process
* write    the same rows through the bare idempotent insert, in the runner's batches
* bytes    bytes on the wire (HTTP framing included) per event

``--profile FILE`` attaches py-spy to the server during the largest dataset's runs
and prints where its CPU went (see :mod:`livesim.benchmarks.profile`).
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import trio

from livesim.benchmarks.harness import (
    NOISE_NOTE,
    START_MS,
    ServerProcess,
    StreamReader,
    bench_schema,
    create_session,
    load_market,
    median,
    server_process,
    write_ceiling,
)
from livesim.benchmarks.profile import summarize
from livesim.benchmarks.reference import frame, run_backtesting
from livesim.config import Settings
from livesim.db.bridge import Database, open_database
from livesim.eventlog import LogRecord, record_from_event
from livesim.market.synthetic import generate_candles
from livesim.server import database_url
from livesim.sim.candles import Candle, timeframe_ms
from livesim.sim.engine import build_engine

SYMBOL = "BENCH"
FAST, SLOW, SIZE, COMMISSION = 10, 30, 0.95, 0.001
CONFIG: dict[str, object] = {"fast": FAST, "slow": SLOW, "sizeFraction": SIZE,
                             "commission": COMMISSION}


@dataclass(frozen=True)
class Dataset:
    label: str
    timeframe: str
    count: int
    runs: int
    seed: int = 11

    def candles(self) -> list[Candle]:
        step = timeframe_ms(self.timeframe)
        return generate_candles(self.timeframe, START_MS, START_MS + self.count * step,
                                seed=self.seed)


DATASETS = (Dataset("~2k daily", "1d", 2_100, runs=7),
            Dataset("100k 1m", "1m", 100_000, runs=3))


@dataclass
class Run:
    create: float
    durable: float
    stream: float
    total: float
    events: int
    bytes_read: int


@dataclass
class Figures:
    dataset: Dataset
    runs: list[Run]
    backtesting: float
    bt_trades: int
    compute: float
    write: float
    trades: int

    def median(self, name: str) -> float:
        return median([getattr(run, name) for run in self.runs])

    @property
    def ratio(self) -> float:
        return self.median("total") / self.backtesting


class CommitClock:
    """When each session's newest event was committed, as seen from here (NOTIFY)."""

    def __init__(self) -> None:
        self.last: dict[str, tuple[int, float]] = defaultdict(lambda: (0, 0.0))
        self._changed = trio.Event()

    async def wait_for(self, session_id: str, seq: int) -> float:
        """When the commit that made ``seq`` durable was announced here."""
        while self.last[session_id][0] < seq:
            await self._changed.wait()
        return self.last[session_id][1]

    async def run(self, db: Database, *, task_status: trio.TaskStatus[None]) -> None:
        async with db.listen("livesim_events", buffer=1_000_000) as listener:
            task_status.started()
            async for note in listener.notifications:
                now = time.perf_counter()
                session_id, _, seq = note.partition(":")
                if int(seq) > self.last[session_id][0]:
                    self.last[session_id] = (int(seq), now)
                    self._changed.set()
                    self._changed = trio.Event()


async def one_run(server: ServerProcess, clock: CommitClock, dataset: Dataset,
                  candles: list[Candle]) -> tuple[Run, str]:
    step = timeframe_ms(dataset.timeframe)
    reader = StreamReader(track_ids=False)
    async with server.client() as client:
        started = time.perf_counter()
        session_id = await create_session(
            client, symbol=SYMBOL, timeframe=dataset.timeframe, start_ms=START_MS,
            end_ms=candles[-1].ts + step, speed="max", config=CONFIG)
        created = time.perf_counter()
        await reader.run("127.0.0.1", server.port, f"/api/sim/sessions/{session_id}/stream")
        body = (await client.get(f"/api/sim/sessions/{session_id}")).json()
    if body["status"] != "finished":
        raise RuntimeError(f"session {session_id} ended {body['status']}: {body['error']}")
    events = int(body["lastSeq"])
    with trio.fail_after(10):  # the NOTIFY of the last commit may trail the stream
        durable = await clock.wait_for(session_id, events)
    return Run(create=created - started, durable=durable - started,
               stream=reader.last_byte - reader.first_byte,
               total=reader.last_byte - started, events=events,
               bytes_read=reader.bytes_read), session_id


def compute_once(candles: list[Candle], timeframe: str) -> tuple[float, list[LogRecord], int]:
    """The pure core as the runner drives it: step, number, encode."""
    started = time.perf_counter()
    engine = build_engine("sma-cross", CONFIG, timeframe=timeframe, candle_count=len(candles))
    records: list[LogRecord] = []
    seq = 1
    for candle in candles:
        for event in engine.step(candle):
            seq += 1
            records.append(record_from_event(seq, event))
    stats = engine.stats()
    return time.perf_counter() - started, records, int(stats["trades"])


async def measure(url: str, datasets: tuple[Dataset, ...], profile: Path | None
                  ) -> list[Figures]:
    results = []
    async with bench_schema(url) as schema_url:
        for dataset in datasets:
            await load_market(schema_url, SYMBOL, dataset.timeframe, dataset.candles())
        clock = CommitClock()
        async with server_process(schema_url) as server, \
                open_database(schema_url) as db, trio.open_nursery() as nursery:
            await nursery.start(clock.run, db)
            await one_run(server, clock, datasets[0], datasets[0].candles())  # warm-up
            for dataset in datasets:
                profiler = None
                if profile is not None and dataset is datasets[-1]:
                    profiler = await trio.lowlevel.open_process(
                        [_py_spy(), "record", "--pid", str(server.pid), "--rate", "250",
                         "--nonblocking", "--format", "raw", "--output", str(profile)],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    await trio.sleep(1.0)  # py-spy attaches
                results.append(await _measure_dataset(server, clock, db, dataset))
                if profiler is not None:
                    profiler.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
                    await profiler.wait()
            nursery.cancel_scope.cancel()
    return results


def _py_spy() -> str:
    beside = Path(sys.executable).parent / "py-spy"  # pip installs it into the venv
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        raise SystemExit("--profile needs py-spy: pip install py-spy")
    return found


async def _measure_dataset(server: ServerProcess, clock: CommitClock, db: Database,
                           dataset: Dataset) -> Figures:
    candles = dataset.candles()
    data = frame(candles)
    bt = [run_backtesting(data, fast=FAST, slow=SLOW, size=SIZE, commission=COMMISSION)
          for _ in range(dataset.runs)]
    computed = [compute_once(candles, dataset.timeframe) for _ in range(dataset.runs)]
    runs, writes = [], []
    for _ in range(dataset.runs):
        run, session_id = await one_run(server, clock, dataset, candles)
        runs.append(run)
        writes.append(await write_ceiling(db, session_id, computed[0][1]))
    return Figures(dataset, runs, backtesting=median([b[0] for b in bt]), bt_trades=bt[0][1],
                   compute=median([c[0] for c in computed]), write=median(writes),
                   trades=computed[0][2])


def report(results: list[Figures]) -> None:
    print(f"{'candles':<11} {'events':>8} {'livesim':>9} {'backtesting.py':>15} {'ratio':>7}")
    for fig in results:
        print(f"{fig.dataset.label:<11} {fig.runs[0].events:>8,} {fig.median('total'):>8.3f}s "
              f"{fig.backtesting:>14.3f}s {fig.ratio:>6.2f}x"
              f"   (target <= 1.0; median of {len(fig.runs)})")
    for fig in results:
        events = fig.runs[0].events
        print(f"  {fig.dataset.label}: create {fig.median('create') * 1000:.0f} ms | "
              f"durable {fig.median('durable'):.3f} s | "
              f"stream {fig.median('stream'):.3f} s "
              f"({events / max(fig.median('stream'), 1e-9):,.0f} ev/s) | "
              f"compute {fig.compute:.3f} s | write {fig.write:.3f} s "
              f"({events / fig.write:,.0f} ev/s) | "
              f"{fig.median('bytes_read') / events:.0f} B/event | "
              f"trades {fig.trades} vs {fig.bt_trades}")
    # What no pipeline on this machine beats: its pure core alone, and the bare durable
    # write of the same rows; the whole job runs within a factor of the slower one.
    for fig in results:
        floor = max(fig.compute, fig.write)
        print(f"  {fig.dataset.label} floors: compute alone {fig.compute / fig.backtesting:.2f}x "
              f"backtesting.py, bare durable write {fig.write / fig.backtesting:.2f}x; "
              f"livesim is {fig.median('total') / floor:.2f}x its slower floor")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs (3 and 1)")
    parser.add_argument("--only", choices=[d.label for d in DATASETS], default=None)
    parser.add_argument("--profile", type=Path, default=None,
                        help="py-spy raw output file for the server during the last dataset")
    args = parser.parse_args(argv)
    datasets = tuple(d for d in DATASETS if args.only in (None, d.label))
    if args.quick:
        datasets = tuple(Dataset(d.label, d.timeframe, d.count, runs=3 if d.count < 10_000
                                 else 1, seed=d.seed) for d in datasets)
    gc.disable()  # the clients share this process: keep GC pauses out of their timings
    url = database_url(Settings.from_env(check=False))
    print(f"livesim vs backtesting.py 0.6.6, sma-cross {json.dumps(CONFIG)}; {NOISE_NOTE}")
    results = trio.run(measure, url, datasets, args.profile)
    report(results)
    if args.profile is not None:
        summarize(args.profile, sys.stdout)


if __name__ == "__main__":
    main()
