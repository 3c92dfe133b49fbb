"""``just bench-orders``: the order round trip of bots trading live replays.

100 manual sessions replay 1m candles at speed 200 (300 ms between candles), each followed
and traded by its own bot (in-process: trio + httpx, one connection for the stream and one
for orders).  On every candle k it reads, a bot sends a market order (alternately buy and
sell, so the position stays small) named after k's time.  Afterwards the log says at
which candle each order was taken: the share taken at k+1 is the share that "made the next
candle".  Printed: that share, and p50/p99/max of the POST latency seen by the bots.

The server runs as its own process (``python -m livesim serve``) in a fresh schema, as in
``just bench``; the bots share this process, so a slow client counts against the figure.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field

import httpx
import trio

from livesim.benchmarks.harness import free_port, wait_ready
from livesim.config import Settings
from livesim.db.bridge import open_database
from livesim.db.migrate import migrate
from livesim.market.store import upsert_candles
from livesim.market.synthetic import generate_candles
from livesim.server import database_url

START_MS = 1_577_836_800_000  # 2020-01-01T00:00:00Z
MINUTE_MS = 60_000


@dataclass
class Bot:
    """One session's trader: its POST latencies and the candle each order answered."""

    user: str
    latencies: list[float] = field(default_factory=list)
    answered: dict[str, int] = field(default_factory=dict)  # clientOrderId -> candle ts
    refused: dict[int, int] = field(default_factory=dict)  # HTTP status -> count
    refusal: str = ""  # the first refusal's error code and message, to print

    async def run(self, base_url: str, candles: int, speed: float,
                  task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with httpx.AsyncClient(base_url=base_url, headers={"X-Dev-User": self.user},
                                     timeout=httpx.Timeout(30.0, read=None)) as http:
            created = await http.post("/api/sim/sessions", json={
                "profileSlug": "manual", "symbol": "BENCH", "timeframe": "1m",
                "startMs": START_MS, "endMs": START_MS + candles * MINUTE_MS,
                "speed": speed, "config": {}})
            created.raise_for_status()
            session_id: str = created.json()["id"]
            path = f"/api/sim/sessions/{session_id}"
            # paused until every bot listens, so no bot starts from a backlog
            await http.post(f"{path}/control", json={"action": "pause"})
            task_status.started()
            self.session_id = session_id
            async with http.stream("GET", f"{path}/stream", params={"fromSeq": 1}) as stream:
                async for line in stream.aiter_lines():
                    if not line.startswith("data: "):
                        continue
                    event = json.loads(line[6:])
                    if event["type"] in ("session_finished", "session_stopped",
                                         "session_failed"):
                        return
                    # the last candle has no next one to take an order at
                    last = event["ts"] == START_MS + (candles - 1) * MINUTE_MS
                    if event["type"] == "candle" and not last:
                        await self._order(http, path, event["ts"])

    async def _order(self, http: httpx.AsyncClient, path: str, candle_ts: int) -> None:
        order_id = f"k{candle_ts}"
        side = "buy" if len(self.answered) % 2 == 0 else "sell"
        started = time.perf_counter()
        answer = await http.post(f"{path}/orders", json={
            "clientOrderId": order_id, "side": side, "type": "market", "qty": 1})
        self.latencies.append(time.perf_counter() - started)
        if answer.status_code == 202:  # anything else is counted and printed as refused
            self.answered[order_id] = candle_ts
        else:
            self.refused[answer.status_code] = self.refused.get(answer.status_code, 0) + 1
            if not self.refusal:
                error = answer.json().get("error", {})
                self.refusal = f"{error.get('code')}: {error.get('message')}"


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (from /proc)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def bench(url: str, sessions: int, candles: int, speed: float) -> None:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    async with open_database(url) as admin:
        await admin.execute_sql(f'CREATE SCHEMA "{schema}"')
        try:
            await _bench_in_schema(url, schema, sessions, candles, speed)
        finally:
            await admin.execute_sql(f'DROP SCHEMA "{schema}" CASCADE')


async def _bench_in_schema(url: str, schema: str, sessions: int, candles: int,
                           speed: float) -> None:
    separator = "&" if "?" in url else "?"
    schema_url = f"{url}{separator}search_path={schema}"
    async with open_database(url, schema=schema) as db:
        await migrate(db)
        await upsert_candles(db, "BENCH", "1m", generate_candles(
            "1m", START_MS, START_MS + candles * MINUTE_MS, seed=5))
    port = free_port()
    env = {**os.environ, "DATABASE_URL": schema_url, "LIVESIM_PORT": str(port),
           "LIVESIM_AUTH": "dev"}
    server = await trio.lowlevel.open_process([sys.executable, "-m", "livesim", "serve"],
                                              env=env, stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    wall = time.perf_counter()
    try:
        async with httpx.AsyncClient(base_url=base_url, headers={"X-Dev-User": "bench"},
                                     timeout=60) as client:
            await wait_ready(client)
            bots = [Bot(f"bot{i}") for i in range(sessions)]
            async with trio.open_nursery() as nursery:
                for bot in bots:
                    await nursery.start(bot.run, base_url, candles, speed)
                for bot in bots:  # all listening: go
                    await client.post(f"/api/sim/sessions/{bot.session_id}/control",
                                      json={"action": "resume"},
                                      headers={"X-Dev-User": bot.user})
            made = total = 0
            for bot in bots:
                await _wait_over(client, bot)
                taken = await _taken_at(client, bot)
                for order_id, candle_ts in bot.answered.items():
                    total += 1
                    made += taken.get(order_id) == candle_ts + MINUTE_MS
        wall = time.perf_counter() - wall
        server_cpu = _cpu_s(server.pid)
    finally:
        server.terminate()
        with trio.CancelScope(shield=True):
            await server.wait()
    latencies = [s for bot in bots for s in bot.latencies]
    refused: dict[int, int] = {}
    for bot in bots:
        for status, count in bot.refused.items():
            refused[status] = refused.get(status, 0) + count
    print(f"{sessions} manual sessions x {candles} candles of 1m at speed {speed:g} "
          f"({MINUTE_MS / speed:.0f} ms between candles), one bot each")
    print(f"  orders accepted {total:,}; refused by HTTP status: {refused or 'none'}")
    refusals = sorted({bot.refusal for bot in bots if bot.refusal})
    for refusal in refusals[:3]:
        print(f"    e.g. {refusal}")
    print(f"  taken at the next candle: {made:,} = {made / max(total, 1):.1%}")
    print(f"  POST latency p50 {_quantile(latencies, 0.5) * 1000:.1f} ms, "
          f"p99 {_quantile(latencies, 0.99) * 1000:.1f} ms, "
          f"max {max(latencies) * 1000:.1f} ms, mean {statistics.fmean(latencies) * 1000:.1f} ms")
    own = resource.getrusage(resource.RUSAGE_SELF)
    print(f"  CPU over {wall:.1f} s: server {server_cpu:.1f} s, bots (this process) "
          f"{own.ru_utime + own.ru_stime:.1f} s, on {os.cpu_count()} cores")


async def _wait_over(client: httpx.AsyncClient, bot: Bot) -> None:
    while True:
        body = (await client.get(f"/api/sim/sessions/{bot.session_id}",
                                 headers={"X-Dev-User": bot.user})).json()
        if body["status"] in ("finished", "failed", "stopped"):
            return
        await trio.sleep(0.05)


async def _taken_at(client: httpx.AsyncClient, bot: Bot) -> dict[str, int]:
    """clientOrderId -> ts of the candle at which the runner took the order (from the log)."""
    taken: dict[str, int] = {}
    next_seq = 1
    while True:
        page = (await client.get(f"/api/sim/sessions/{bot.session_id}/events",
                                 params={"fromSeq": next_seq, "limit": 1000},
                                 headers={"X-Dev-User": bot.user})).json()
        for event in page["events"]:
            payload = event["payload"]
            if event["type"] == "order_submitted" and payload.get("clientOrderId"):
                taken[payload["clientOrderId"]] = event["ts"]
        next_seq = page["nextSeq"]
        if not page["hasMore"]:
            return taken


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the share of orders on time and the POST latencies."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--candles", type=int, default=40)
    parser.add_argument("--speed", type=float, default=200.0)
    args = parser.parse_args(argv)
    gc.disable()  # the bots share this process: keep GC pauses out of their timings
    url = database_url(Settings.from_env(check=False))
    trio.run(bench, url, args.sessions, args.candles, args.speed)


if __name__ == "__main__":
    main()
