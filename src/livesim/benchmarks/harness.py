"""What every benchmark shares: a server process in a schema of its own, raw SSE readers.

The server always runs as a separate process (``python -m livesim serve``), so its
CPU and memory are read apart from the clients' (``/proc/<pid>``), and a profiler
can be put in front of it.  Clients are bare sockets: an SSE reader records when
bytes and each ``id:`` arrived and how many bytes it read, nothing else, so the
client costs as little as can be and the figures are about the server.
"""

from __future__ import annotations

import bisect
import os
import pickle
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from array import array
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import trio

from livesim.benchmarks.sse_readers import ID_LINE, LAST_CHUNK, Readings
from livesim.db.bridge import Database, open_database
from livesim.db.migrate import migrate
from livesim.eventlog import LogRecord, record_from_row
from livesim.market.store import upsert_candles
from livesim.runner.session import MAX_BATCH_EVENTS
from livesim.runner.store import Lease, PgEventStore
from livesim.sim.candles import Candle

START_MS = 1_577_836_800_000  # 2020-01-01T00:00:00Z
NOISE_NOTE = ("2 shared cores, other engineers' jobs running: absolute figures wander by "
              "tens of %; read medians and ratios")
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_kib(pid: int) -> int:
    """Resident memory of a process, KiB."""
    fields = Path(f"/proc/{pid}/statm").read_text().split()
    return int(fields[1]) * _PAGE_KIB


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process used so far."""
    # the command name (field 2) may hold spaces: split after its closing parenthesis
    rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / _CLK_TCK


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` 0.99 is p99)."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, int(len(ordered) * fraction + 0.999999) - 1))
    return ordered[index]


@asynccontextmanager
async def bench_schema(url: str) -> AsyncIterator[str]:
    """A fresh, migrated schema, dropped afterwards; yields its URL (search_path set)."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    separator = "&" if "?" in url else "?"
    async with open_database(url, max_size=2) as admin:
        await admin.execute_sql(f'CREATE SCHEMA "{schema}"')
        try:
            async with open_database(url, schema=schema) as db:
                await migrate(db)
            yield f"{url}{separator}search_path={schema}"
        finally:
            with trio.CancelScope(shield=True):
                await admin.execute_sql(f'DROP SCHEMA "{schema}" CASCADE')


async def scratch_lease(db: Database) -> Lease:
    """An owner that holds its lease for an hour, so no server adopts its scratch
    sessions while a benchmark writes into them with the runner's fenced statement."""
    lease = Lease(str(uuid.uuid4()), 1)
    await db.run("renew-process-lease", owner=lease.owner, ttl_s=3600.0, host="bench", pid=0)
    return lease


async def write_ceiling(db: Database, like_session: str, records: Sequence[LogRecord],
                        batch: int = MAX_BATCH_EVENTS) -> float:
    """Seconds to write ``records`` with the runner's own statement and batch size.

    The bare-insert ceiling: no compute, no publish, one statement after another, into
    a scratch session copied from ``like_session`` (same row shape, another id).
    """
    target, lease = str(uuid.uuid4()), await scratch_lease(db)
    # a live session owned by a lease of our own: the runner's very (fenced) statement
    await db.execute_sql(
        "INSERT INTO sim_sessions (id, user_id, profile_slug, symbol, timeframe, start_ms,"
        " end_ms, speed, config, status, candle_count, gap_policy, request_hash, owner,"
        " epoch) SELECT $1, 'bench-ceiling', profile_slug, symbol, timeframe, start_ms,"
        " end_ms, speed, config, 'running', candle_count, gap_policy, request_hash, $3, $4"
        " FROM sim_sessions WHERE id = $2", target, like_session, lease.owner, lease.epoch)
    store = PgEventStore(db)
    started = time.perf_counter()
    for index in range(0, len(records), batch):
        await store.append(target, lease, records[index:index + batch])
    return time.perf_counter() - started


async def read_log(db: Database, session_id: str) -> list[LogRecord]:
    rows = await db.fetch_sql(
        "SELECT seq, ts, type, payload, reencode FROM sim_events "
        "WHERE session_id = $1 ORDER BY seq", session_id)
    return [record_from_row(row) for row in rows]


async def load_market(url: str, symbol: str, timeframe: str, candles: list[Candle]) -> None:
    async with open_database(url) as db:
        await upsert_candles(db, symbol, timeframe, candles)


@dataclass
class ServerProcess:
    """``livesim serve`` on a free port, with dev auth and generous limits."""

    url: str
    port: int
    process: trio.Process

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, user: str = "bench") -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base, headers={"X-Dev-User": user},
                                 timeout=120)


@asynccontextmanager
async def server_process(schema_url: str, *, prefix: Sequence[str] = (),
                         env: dict[str, str] | None = None) -> AsyncIterator[ServerProcess]:
    """Start a server on ``schema_url`` and wait until it is ready; SIGTERM it on exit.

    ``prefix`` goes before the Python command (a profiler, say).
    """
    port = free_port()
    full_env = {**os.environ, "DATABASE_URL": schema_url, "LIVESIM_PORT": str(port),
                "LIVESIM_AUTH": "dev", "LIVESIM_MAX_SPEED": "100000",
                "LIVESIM_MAX_STREAMS_PER_USER": "100000",
                "LIVESIM_MAX_RUNNING_PER_USER": "100000", **(env or {})}
    process = await trio.lowlevel.open_process(
        [*prefix, sys.executable, "-m", "livesim", "serve"], env=full_env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = ServerProcess(schema_url, port, process)
    try:
        async with server.client() as client:
            await wait_ready(client)
        yield server
    finally:
        process.terminate()
        with trio.CancelScope(shield=True):
            await process.wait()


async def wait_ready(client: httpx.AsyncClient) -> None:
    with trio.fail_after(60):
        while True:
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await trio.sleep(0.1)


@dataclass
class StreamReader:
    """A bare-socket SSE client reading one stream to its end, in this trio process.

    ``last_byte`` is when the terminal frame and chunked encoding's last chunk had
    fully arrived (see :data:`~livesim.benchmarks.sse_readers.LAST_CHUNK`).  Many
    streams at once are read by :mod:`livesim.benchmarks.sse_readers` instead.
    """

    track_ids: bool = True
    arrivals: dict[int, float] = field(default_factory=dict)
    connected: trio.Event = field(default_factory=trio.Event)
    finished: trio.Event = field(default_factory=trio.Event)
    first_byte: float = 0.0
    last_byte: float = 0.0
    bytes_read: int = 0
    status_line: bytes = b""

    async def run(self, host: str, port: int, path: str, user: str = "bench") -> None:
        try:
            stream = await trio.open_tcp_stream(host, port)
            async with stream:
                await stream.send_all(
                    f"GET {path} HTTP/1.1\r\nHost: {host}\r\nX-Dev-User: {user}\r\n"
                    "Accept: text/event-stream\r\nConnection: close\r\n\r\n".encode())
                await self._read(stream)
        finally:
            self.finished.set()

    async def _read(self, stream: trio.SocketStream) -> None:
        tail = b""
        while True:
            data = await stream.receive_some(262_144)
            now = time.perf_counter()
            if not data:
                return
            if not self.bytes_read:
                self.first_byte = now
                self.status_line = data.split(b"\r\n", 1)[0]
                self.connected.set()
            self.bytes_read += len(data)
            self.last_byte = now
            buffer = tail + data
            if self.track_ids:
                for match in ID_LINE.finditer(buffer):
                    self.arrivals.setdefault(int(match.group(1)), now)
            if buffer.endswith(LAST_CHUNK):
                return
            tail = buffer[-24:]

    def complete(self, last_seq: int, first_seq: int = 1) -> bool:
        """Every seq from ``first_seq`` to ``last_seq`` arrived."""
        return (len(self.arrivals) == last_seq - first_seq + 1
                and min(self.arrivals, default=first_seq) == first_seq
                and max(self.arrivals, default=last_seq) == last_seq)


async def create_session(client: httpx.AsyncClient, *, symbol: str, timeframe: str,
                         start_ms: int, end_ms: int, speed: object,
                         config: dict[str, object]) -> str:
    response = await client.post("/api/sim/sessions", json={
        "profileSlug": "sma-cross", "symbol": symbol, "timeframe": timeframe,
        "startMs": start_ms, "endMs": end_ms, "speed": speed, "config": config})
    response.raise_for_status()
    session_id: str = response.json()["id"]
    return session_id


async def wait_status(client: httpx.AsyncClient, session_id: str,
                      statuses: Sequence[str] = ("finished", "failed", "stopped"),
                      poll_s: float = 0.05) -> dict[str, object]:
    while True:
        body: dict[str, object] = (await client.get(f"/api/sim/sessions/{session_id}")).json()
        if body["status"] in statuses:
            return body
        await trio.sleep(poll_s)


class ReaderProcess:
    """A running :mod:`~livesim.benchmarks.sse_readers` process whose streams are all
    connected; :meth:`readings` waits for it to end and returns what it saw."""

    def __init__(self, process: trio.Process, out: Path) -> None:
        self._process = process
        self._out = out

    async def readings(self) -> Readings:
        await self._process.wait()
        readings: Readings = pickle.loads(self._out.read_bytes())
        return readings


@asynccontextmanager
async def reader_process(ports: Sequence[int], path: str, count: int
                         ) -> AsyncIterator[ReaderProcess]:
    """``count`` SSE streams of ``path`` spread over ``ports``, read in a process of
    their own; entered once every stream has had its first byte."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "readings.pickle"
        process = await trio.lowlevel.open_process(
            [sys.executable, "-m", "livesim.benchmarks.sse_readers",
             "--ports", ",".join(map(str, ports)), "--path", path, "--count", str(count),
             "--out", str(out)], stdout=subprocess.PIPE)
        try:
            assert process.stdout is not None
            line = b""
            with trio.fail_after(300):
                while not line.endswith(b"\n"):
                    data = await process.stdout.receive_some(64)
                    if not data:
                        raise RuntimeError("the SSE readers ended before all connected")
                    line += data
            yield ReaderProcess(process, out)
        finally:
            if process.returncode is None:
                process.kill()
            with trio.CancelScope(shield=True):
                await process.wait()


def commit_latencies_ms(arrivals: dict[int, array[float]], commits: Sequence[tuple[int, float]],
                        since: float) -> list[float]:
    """Arrival minus commit time of every id arrival, for ids committed at or after
    ``since``; ``commits`` are (last seq of the commit, when), in seq order."""
    commit_seqs = [seq for seq, _ in commits]
    latencies: list[float] = []
    for seq, times in arrivals.items():
        index = bisect.bisect_left(commit_seqs, seq)
        if index < len(commits) and commits[index][1] >= since:
            committed = commits[index][1]
            latencies += [(arrived - committed) * 1000 for arrived in times]
    return latencies
