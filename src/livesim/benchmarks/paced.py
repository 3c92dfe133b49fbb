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
    is the NOTIFY of the batch carrying the event reaching this process.

All clients are bare sockets in this one process: at 10,000 streams the clients
themselves are a real share of the 2 cores, so latencies are upper bounds.
"""

from __future__ import annotations

import argparse
import bisect
import gc
import resource
import time
from collections import defaultdict
from contextlib import AsyncExitStack

import httpx
import trio

from livesim.benchmarks.harness import (
    NOISE_NOTE,
    START_MS,
    ServerProcess,
    StreamReader,
    bench_schema,
    cpu_seconds,
    create_session,
    load_market,
    median,
    percentile,
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
                now = time.perf_counter()
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
        cpu0, t0, rss_running = cpu_seconds(server.pid), time.perf_counter(), rss_kib(server.pid)
        await trio.sleep(seconds)
        t1 = time.perf_counter()
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
        readers = [StreamReader() for _ in range(subscribers)]
        rss_before = [rss_kib(node.pid) for node in nodes]
        connect = trio.CapacityLimiter(200)  # don't flood the accept queues

        async def read(reader: StreamReader, node: ServerProcess) -> None:
            async with connect:
                nursery.start_soon(reader.run, "127.0.0.1", node.port,
                                   f"/api/sim/sessions/{session_id}/stream")
                await reader.connected.wait()

        connect_started = time.perf_counter()
        async with trio.open_nursery() as connecting:
            for index, reader in enumerate(readers):
                connecting.start_soon(read, reader, nodes[index % servers])
        connect_s = time.perf_counter() - connect_started
        rss_connected = [rss_kib(node.pid) for node in nodes]
        await owner.post(f"/api/sim/sessions/{session_id}/control", json={"action": "resume"})
        started = time.perf_counter()
        final = await wait_status(owner, session_id)
        with trio.move_on_after(60):  # a stream that never ends shows in the count below
            for reader in readers:
                await reader.finished.wait()
        elapsed = time.perf_counter() - started
        nursery.cancel_scope.cancel()
    events = int(final["lastSeq"])  # type: ignore[call-overload]
    complete = sum(reader.complete(events) for reader in readers)
    commits = sorted((seq, t) for t, seq in announcements.by_session[session_id])
    commit_seqs = [seq for seq, _ in commits]
    latencies = []
    for reader in readers:
        for seq, arrived in reader.arrivals.items():
            index = bisect.bisect_left(commit_seqs, seq)
            if index < len(commits) and commits[index][1] >= started:
                latencies.append((arrived - commits[index][1]) * 1000)
    deliveries = sum(len(reader.arrivals) for reader in readers)
    print(f"(e) {subscribers:,} SSE subscribers over {servers} server process(es), one session "
          f"of {candles} 1m candles at {FANOUT_SPEED}x ({events} events; "
          f"all connected in {connect_s:.1f} s):")
    print(f"    every event delivered to {complete:,}/{subscribers:,} subscribers; "
          f"{deliveries / elapsed:,.0f} deliveries/s")
    if latencies:
        print(f"    commit->client p50 {median(latencies):.1f} ms, "
              f"p99 {percentile(latencies, 0.99):.1f} ms (target p99 < {LAG_TARGET_MS})")
    for node, before, after in zip(nodes, rss_before, rss_connected, strict=True):
        print(f"    server pid {node.pid}: {(after - before) / (subscribers / servers):.1f} KiB "
              f"per subscriber (RSS {before / 1024:.0f} -> {after / 1024:.0f} MiB)")


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
