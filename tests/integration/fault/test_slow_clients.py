"""Clients that stop reading cost the server bounded memory and never stall it.

One unpaced session of many candles is replayed twice by a fresh server process:
once watched by a single reading client, once with 100 more clients that read the
response headers and then nothing at all.  The stalled clients' cost is the
difference of the two runs' peak RSS; /healthz is timed all along, while they
connect and while they disconnect.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time

import httpx
import trio

from livesim.db.bridge import Database
from livesim.market.store import upsert_candles
from livesim.market.synthetic import iter_candles
from tests.support.api import eventually, read_stream, session_body
from tests.support.processes import free_port, ready, schema_url, server_process
from tests.support.stubs import START_MS

CANDLES = int(os.environ.get("LIVESIM_SLOW_CLIENT_CANDLES") or 300_000)
STALLED_CLIENTS = 100
MAX_ADDED_MIB = 100
HEALTHZ_P99_MS = 100
MINUTE = 60_000


def peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


async def stalled_client(port: int, path: str, connected: trio.Event,
                         release: trio.Event) -> None:
    """Send the request, read the headers, then read nothing until released."""
    sock = trio.socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    await sock.connect(("127.0.0.1", port))
    request = (f"GET {path} HTTP/1.1\r\nHost: x\r\nX-Dev-User: alice\r\n"
               "Accept: text/event-stream\r\n\r\n")
    await sock.send(request.encode())
    received = b""
    while b"\r\n\r\n" not in received:
        received += await sock.recv(1024)
    assert received.startswith(b"HTTP/1.1 200"), received[:200]
    connected.set()
    await release.wait()
    sock.close()


async def run_once(url: str, stalled: int) -> tuple[float, list[float]]:
    """Peak RSS (MiB) of a server replaying the session, and /healthz latencies (ms)."""
    port = free_port()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}",
                                 headers={"X-Dev-User": "alice"}, timeout=30) as client, \
            server_process(url, port, LIVESIM_MAX_STREAMS_PER_USER="1000") as process:
        await eventually(lambda: ready(client), within_s=30)
        body = session_body(symbol="BIG", endMs=START_MS + CANDLES * MINUTE, speed="max")
        # paused at once, so every stalled client subscribes before the replay runs
        session_id = (await client.post("/api/sim/sessions", json=body)).json()["id"]
        await client.post(f"/api/sim/sessions/{session_id}/control", json={"action": "pause"})
        release = trio.Event()
        probe = await trio.lowlevel.open_process(
            [sys.executable, "-m", "tests.support.healthz_probe", "127.0.0.1", str(port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        async with trio.open_nursery() as nursery:
            path = f"/api/sim/sessions/{session_id}/stream"
            for _ in range(stalled):
                connected = trio.Event()
                nursery.start_soon(stalled_client, port, path, connected, release)
                await connected.wait()
            await client.post(f"/api/sim/sessions/{session_id}/control",
                              json={"action": "resume"})
            events = await read_stream(client, session_id)  # one client reads it all
            assert events[-1][1] == "session_finished"
            peak = peak_rss_mib(process.pid)
            release.set()  # all the stalled clients disconnect at once
            await trio.sleep(1.0)
            assert probe.stdin is not None
            assert probe.stdout is not None
            await probe.stdin.aclose()
            output = b""
            while chunk := await probe.stdout.receive_some():
                output += chunk
            await probe.wait()
            latencies = json.loads(output)
            nursery.cancel_scope.cancel()
    return peak, latencies


async def test_stalled_clients_add_bounded_memory_and_health_stays_fast(
        db: Database, database_url: str, schema_name: str) -> None:
    await upsert_candles(db, "BIG", "1m",
                         iter_candles("1m", START_MS, START_MS + CANDLES * MINUTE, 5))
    url = schema_url(database_url, schema_name)
    started = time.perf_counter()
    alone, _ = await run_once(url, 0)
    alone_s = time.perf_counter() - started
    crowded, latencies = await run_once(url, STALLED_CLIENTS)
    crowded_s = time.perf_counter() - started - alone_s
    added = crowded - alone
    p99 = statistics.quantiles(latencies, n=100)[98]
    print(f"\n{CANDLES} candles: peak RSS {alone:.0f} MiB alone, {crowded:.0f} MiB with "
          f"{STALLED_CLIENTS} stalled clients (+{added:.0f} MiB); /healthz p50 "
          f"{statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms over {len(latencies)}; "
          f"runs {alone_s:.1f} s and {crowded_s:.1f} s")
    assert added < MAX_ADDED_MIB
    assert p99 < HEALTHZ_P99_MS
