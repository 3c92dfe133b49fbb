"""The paced side at scale: many paced sessions in one process; many subscribers.

(d) ``--sessions`` paced sma-cross sessions (1m candles, speeds spread evenly over
    60..200, so one candle every 1.0..0.3 s each) in one server process, measured
    for ``--seconds`` once all are created.  Pacing lag of a candle =
    when its commit was announced here (NOTIFY) minus when it was due, the schedule
    anchored on the session's best-kept candle: ``lag_k = t_k - k*T - min_j(t_j -
    j*T)``.  So it counts late releases, slow writes and NOTIFY delivery, and p99 is
    over all candles of all sessions.  CPU and memory per session are the server's
    (``/proc``) over the steady window, divided by the session count.
(e) ``--subscribers`` SSE streams on one paced session, spread over ``--servers``
    server processes on one database (the session runs in the first; the others
    learn of its commits by NOTIFY and read them from the database).  Every event
    delivered to every stream, and commit -> client latency p50/p99, where commit
    is the NOTIFY of the batch carrying the event reaching this process.  Then the
    same streams, at the same pace and size, served by bare hypercorn and by bare
    trio (:mod:`livesim.benchmarks.fanout_floor`): what this stack and this machine
    cost before livesim adds anything.

The streams are read in a process of their own (:mod:`livesim.benchmarks.sse_readers`,
one epoll loop); at 10,000 streams it is still a real share of the 2 cores, so
latencies are upper bounds, for livesim and the floors alike.
"""

from __future__ import annotations

import argparse
import gc
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
import trio

from livesim.benchmarks.harness import (
    NOISE_NOTE,
    START_MS,
    ServerProcess,
    bench_schema,
    commit_latencies_ms,
    cpu_seconds,
    create_session,
    free_port,
    load_market,
    median,
    percentile,
    reader_process,
    rss_kib,
    server_process,
    wait_status,
)
from livesim.config import Settings
from livesim.db.bridge import open_database
from livesim.market.synthetic import generate_candles
from livesim.server import database_url

MINUTE_MS = 60_000
SYMBOL = "PACED"
SPEEDS = (60.0, 200.0)
CONFIG: dict[str, object] = {"fast": 5, "slow": 15}
CREATE_CONCURRENCY = 16
FANOUT_SPEED = 120  # 2 candles/s
PACED_CANDLES = 2_000  # more than any run lasts: the window ends while all still run
LAG_TARGET_MS = 100


class Announcements:
    """Arrival times of every session's commits, from NOTIFY ``livesim_events``."""

    def __init__(self) -> None:
        self.by_session: dict[str, list[tuple[float, int]]] = defaultdict(list)

    async def run(self, url: str, *, task_status: trio.TaskStatus[None]) -> None:
        async with open_database(url) as db, db.listen("livesim_events",
                                                       buffer=10_000_000) as listener:
            task_status.started()
            async for note in listener.notifications:
                now = time.monotonic()  # the SSE readers' clock
                session_id, _, seq = note.partition(":")
                self.by_session[session_id].append((now, int(seq)))


def _speeds(count: int) -> list[float]:
    low, high = SPEEDS
    if count == 1:
        return [low]
    return [round(low + (high - low) * i / (count - 1), 3) for i in range(count)]


def _lags_ms(notes: list[tuple[float, int]], interval_s: float, start: float,
             end: float) -> list[float]:
    """Pacing lags of a session's candle commits announced in ``[start, end)``.

    The first note is session_started's; each later one is one candle's (the
    sessions outlast the window).
    """
    candles = [t for t, _ in notes[1:] if t < end]
    if not candles:
        return []
    offsets = [t - k * interval_s for k, t in enumerate(candles)]
    anchor = min(offsets)
    return [(offset - anchor) * 1000 for offset, t in zip(offsets, candles, strict=True)
            if t >= start]


async def paced_sessions(url: str, sessions: int, seconds: float) -> None:
    announcements = Announcements()
    speeds = _speeds(sessions)
    async with server_process(url) as server, trio.open_nursery() as nursery:
        await nursery.start(announcements.run, url)
        rss_before = rss_kib(server.pid)
        ids: list[tuple[str, float]] = []
        limiter = trio.CapacityLimiter(CREATE_CONCURRENCY)
        started = time.perf_counter()

        async def create(speed: float, client: httpx.AsyncClient) -> None:
            async with limiter:
                ids.append((await create_session(
                    client, symbol=SYMBOL, timeframe="1m", start_ms=START_MS,
                    end_ms=START_MS + PACED_CANDLES * MINUTE_MS, speed=speed,
                    config=CONFIG), speed))

        async with server.client() as client, trio.open_nursery() as creators:
            for speed in speeds:
                creators.start_soon(create, speed, client)
        created_s = time.perf_counter() - started
        # the steady window: every session exists and runs; creates are over
        cpu0, t0, rss_running = cpu_seconds(server.pid), time.monotonic(), rss_kib(server.pid)
        await trio.sleep(seconds)
        t1 = time.monotonic()
        cpu_share = (cpu_seconds(server.pid) - cpu0) / (t1 - t0)
        # no stops: the server is terminated and the schema dropped with the sessions
        nursery.cancel_scope.cancel()
    lags: list[float] = []
    for session_id, speed in ids:
        lags += _lags_ms(announcements.by_session[session_id], 60 / speed, t0, t1)
    print(f"(d) {sessions:,} paced sessions in one process (1m candles at {SPEEDS[0]:g}-"
          f"{SPEEDS[1]:g}x; all created in {created_s:.1f} s, then measured for {seconds:g} s):")
    if lags:
        print(f"    pacing lag over {len(lags):,} candles: p50 {median(lags):.1f} ms, "
              f"p99 {percentile(lags, 0.99):.1f} ms, max {max(lags):.0f} ms "
              f"(target p99 < {LAG_TARGET_MS})")
    print(f"    server CPU {cpu_share * 100:.0f}% of a core in all, "
          f"{cpu_share * 1000 / sessions:.2f} milli-cores per session; "
          f"memory {(rss_running - rss_before) / sessions:.1f} KiB per session "
          f"(RSS {rss_before / 1024:.0f} -> {rss_running / 1024:.0f} MiB)")


async def fanout(url: str, subscribers: int, servers: int, candles: int) -> None:
    announcements = Announcements()
    path_of = "/api/sim/sessions/{}/stream".format
    async with AsyncExitStack() as stack:
        nodes: list[ServerProcess] = [
            await stack.enter_async_context(server_process(url)) for _ in range(servers)]
        nursery = await stack.enter_async_context(trio.open_nursery())
        await nursery.start(announcements.run, url)
        owner = await stack.enter_async_context(nodes[0].client())
        session_id = await create_session(
            owner, symbol=SYMBOL, timeframe="1m", start_ms=START_MS,
            end_ms=START_MS + candles * MINUTE_MS, speed=FANOUT_SPEED, config=CONFIG)
        await owner.post(f"/api/sim/sessions/{session_id}/control", json={"action": "pause"})
        rss_before = [rss_kib(node.pid) for node in nodes]
        async with reader_process([node.port for node in nodes], path_of(session_id),
                                  subscribers) as readers:
            rss_connected = [rss_kib(node.pid) for node in nodes]
            await owner.post(f"/api/sim/sessions/{session_id}/control",
                             json={"action": "resume"})
            started = time.monotonic()
            final = await wait_status(owner, session_id)
            readings = await readers.readings()
        elapsed = time.monotonic() - started
        nursery.cancel_scope.cancel()
    events = int(final["lastSeq"])  # type: ignore[call-overload]
    commits = sorted((seq, t) for t, seq in announcements.by_session[session_id])
    latencies = [latency for by_seq in readings.arrivals.values()
                 for latency in commit_latencies_ms(by_seq, commits, started)]
    deliveries = sum(len(times) for by_seq in readings.arrivals.values()
                     for times in by_seq.values())
    print(f"(e) {subscribers:,} SSE subscribers over {servers} server process(es), one session "
          f"of {candles} 1m candles at {FANOUT_SPEED}x ({events} events in {len(commits)} "
          f"commits; all connected in {readings.connect_s:.1f} s):")
    print(f"    every event delivered to {readings.complete(events):,}/{subscribers:,} "
          f"subscribers; {deliveries / elapsed:,.0f} deliveries/s")
    _print_latencies("livesim", latencies)
    for node, before, after in zip(nodes, rss_before, rss_connected, strict=True):
        print(f"    server pid {node.pid}: {(after - before) / (subscribers / servers):.1f} KiB "
              f"per subscriber (RSS {before / 1024:.0f} -> {after / 1024:.0f} MiB)")
    for mode in FLOOR_MODES:
        await fanout_floor(mode, subscribers, servers, commits=len(commits),
                           events_per_commit=max(1, round(events / len(commits))))


def _print_latencies(who: str, latencies: list[float]) -> None:
    if latencies:
        print(f"    {who}: commit->client p50 {median(latencies):.1f} ms, "
              f"p99 {percentile(latencies, 0.99):.1f} ms (target p99 < {LAG_TARGET_MS})")


# The same streams with nothing of livesim in them (see livesim.benchmarks.fanout_floor):
# bare hypercorn is the floor of this stack, bare trio sockets that of the language.
FLOOR_MODES = ("hypercorn", "trio")


async def fanout_floor(mode: str, subscribers: int, servers: int, *, commits: int,
                       events_per_commit: int) -> None:
    """The fan-out figures of ``servers`` bare ``mode`` servers, same streams and load."""
    ports = [free_port() for _ in range(servers)]
    with tempfile.TemporaryDirectory() as scratch:
        outs = [Path(scratch) / f"commits.{port}" for port in ports]
        async with AsyncExitStack() as stack:
            processes = [await stack.enter_async_context(_floor_server(
                mode, port, out, commits, events_per_commit)) for port, out in zip(
                    ports, outs, strict=True)]
            async with reader_process(ports, "/stream", subscribers) as readers:
                for process in processes:
                    process.send_signal(signal.SIGUSR1)
                readings = await readers.readings()
        latencies: list[float] = []
        for port, out in zip(ports, outs, strict=True):
            times = [float(line) for line in out.read_text().split()]
            ends = [(index + 1) * events_per_commit for index in range(len(times))]
            latencies += commit_latencies_ms(readings.arrivals[port],
                                             list(zip(ends, times, strict=True)), times[0])
    events = commits * events_per_commit
    print(f"    bare {mode}, same streams ({commits} commits of {events_per_commit} events): "
          f"every event delivered to {readings.complete(events):,}/{subscribers:,}")
    _print_latencies(f"bare {mode}", latencies)


@asynccontextmanager
async def _floor_server(mode: str, port: int, out: Path, commits: int,
                        events_per_commit: int) -> AsyncIterator[trio.Process]:
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "livesim.benchmarks.fanout_floor", "--mode", mode,
         "--port", str(port), "--commits", str(commits),
         "--events-per-commit", str(events_per_commit),
         "--interval", str(MINUTE_MS / 1000 / FANOUT_SPEED), "--out", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with trio.fail_after(30):
            while True:
                try:
                    await (await trio.open_tcp_stream("127.0.0.1", port)).aclose()
                    break
                except OSError:
                    await trio.sleep(0.1)
        yield process
    finally:
        process.terminate()
        with trio.CancelScope(shield=True):
            await process.wait()


async def bench(url: str, args: argparse.Namespace) -> None:
    # a schema for each part: sessions left running by (d) must not be adopted by (e)
    end = START_MS + max(PACED_CANDLES, args.fanout_candles) * MINUTE_MS
    candles = generate_candles("1m", START_MS, end, seed=3)
    if args.sessions:
        async with bench_schema(url) as schema_url:
            await load_market(schema_url, SYMBOL, "1m", candles)
            await paced_sessions(schema_url, args.sessions, args.seconds)
    if args.subscribers:
        async with bench_schema(url) as schema_url:
            await load_market(schema_url, SYMBOL, "1m", candles)
            await fanout(schema_url, args.subscribers, args.servers, args.fanout_candles)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1_000)
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="wall duration of each paced session")
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--fanout-candles", type=int, default=30)
    parser.add_argument("--quick", action="store_true",
                        help="200 sessions for 8 s; 1,000 subscribers, 12 candles")
    args = parser.parse_args(argv)
    if args.quick:
        args.sessions, args.seconds = min(args.sessions, 200), 8.0
        args.subscribers, args.fanout_candles = min(args.subscribers, 1_000), 12
    # every stream is a socket here and in the servers
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    gc.disable()  # the clients share this process: keep GC pauses out of their timings
    print(f"livesim paced side at scale; {NOISE_NOTE}", flush=True)
    trio.run(bench, database_url(Settings.from_env(check=False)), args)


if __name__ == "__main__":
    main()
