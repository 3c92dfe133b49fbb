"""Measure the page during a "max" replay of 100k candles: frame rate, long tasks, CPU.

Run: ``just bench-desk`` (needs DATABASE_URL, /usr/bin/chromium and a built page).  It
serves the app over a throw-away schema, creates a session at speed "max", opens its page
in Chromium and follows it to the end, then prints figures: frames per second from a
requestAnimationFrame counter, the longest gap between frames, long tasks (>50 ms) from a
PerformanceObserver, and the renderer main thread's busy time (CDP TaskDuration) over the
wall time.  A benchmark that prints figures, not a test with a threshold.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from typing import Any

import httpx
import trio

from livesim.app import create_app
from livesim.config import Settings
from livesim.db.bridge import open_database
from livesim.db.migrate import migrate
from livesim.market.store import upsert_candles
from livesim.market.synthetic import generate_candles
from tests.support.browser import chromium, in_browser, new_page
from tests.support.server import serve_app

CANDLES = int(os.environ.get("BENCH_CANDLES", "100000"))
START_MS = 1_704_067_200_000
MINUTE = 60_000
USER = "bench"

PROBE = """
window.__perf = {frames: 0, maxGap: 0, last: 0, longTasks: [], longAt: []};
const tick = (now) => {
  const p = window.__perf;
  if (p.last) p.maxGap = Math.max(p.maxGap, now - p.last);
  p.last = now; p.frames += 1;
  requestAnimationFrame(tick);
};
requestAnimationFrame(tick);
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    window.__perf.longTasks.push(entry.duration);
    window.__perf.longAt.push([Math.round(entry.startTime), Math.round(entry.duration)]);
  }
}).observe({entryTypes: ["longtask"]});
localStorage.setItem("livesim.devUser", "bench");
"""


def watch(url: str, session_id: str) -> dict[str, Any]:
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        page.add_init_script(PROBE)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")

        def busy_s() -> float:
            metrics = cdp.send("Performance.getMetrics")["metrics"]
            return float(next(m["value"] for m in metrics if m["name"] == "TaskDuration"))

        page.goto(f"{url}/sessions/{session_id}")
        page.wait_for_function("() => window.__livesim && window.__livesim.seqs "
                               "&& window.__livesim.seqs.length > 0", timeout=60_000)
        started, busy_at_start = time.monotonic(), busy_s()
        frames_at_start = page.evaluate("() => window.__perf.frames")
        page.wait_for_function("() => window.__livesim.finished === true", timeout=900_000,
                               polling=500)
        wall = time.monotonic() - started
        busy = busy_s() - busy_at_start
        perf = page.evaluate("() => window.__perf")
        heap = page.evaluate("() => performance.memory ? performance.memory.usedJSHeapSize : 0")
        return {"wall_s": wall, "busy_s": busy, "frames": perf["frames"] - frames_at_start,
                "max_gap_ms": perf["maxGap"], "long_tasks": perf["longTasks"],
                "events": page.evaluate("() => window.__livesim.seqs.length"),
                "chart": page.evaluate("() => window.__livesim.chart()"),
                "heap_mb": heap / 1e6, "errors": errors,
                "timing": page.evaluate("() => window.__livesim.timing")}


async def main() -> None:
    database_url = os.environ["DATABASE_URL"]
    schema = f"bench_desk_{uuid.uuid4().hex[:8]}"
    async with open_database(database_url) as admin:
        await admin.execute_sql(f'CREATE SCHEMA "{schema}"')
        try:
            async with open_database(database_url, schema=schema) as db:
                await migrate(db)
                await upsert_candles(db, "BENCH", "1m", generate_candles(
                    "1m", START_MS, START_MS + CANDLES * MINUTE, seed=7))
            await run(database_url, schema)
        finally:
            await admin.execute_sql(f'DROP SCHEMA "{schema}" CASCADE')


async def run(database_url: str, schema: str) -> None:
    settings = Settings(auth_mode="dev", max_candles_per_session=CANDLES)
    app = create_app(settings, database_url, schema=schema)
    async with serve_app(app) as url:
        async with httpx.AsyncClient(base_url=url, headers={"X-Dev-User": USER},
                                     timeout=60) as client:
            body = {"profileSlug": "sma-cross", "symbol": "BENCH", "timeframe": "1m",
                    "startMs": START_MS, "endMs": START_MS + CANDLES * MINUTE, "speed": "max",
                    "config": {"fast": 10, "slow": 30, "stopLossPct": 1}}
            session = (await client.post("/api/sim/sessions", json=body)).json()
            created = time.monotonic()
            result = await in_browser(watch, url, session["id"])
            view = (await client.get(f"/api/sim/sessions/{session['id']}")).json()
    long_tasks = result["long_tasks"]
    print(f"desk, speed max, {CANDLES} candles, {result['events']} events "
          f"(session {view['status']}, lastSeq {view['lastSeq']})")
    print(f"  page followed it in {result['wall_s']:.1f} s "
          f"(from create: {time.monotonic() - created:.1f} s)")
    print(f"  frames: {result['frames']} = {result['frames'] / result['wall_s']:.1f} fps; "
          f"longest gap between frames {result['max_gap_ms']:.0f} ms")
    print(f"  long tasks (>50 ms): {len(long_tasks)}, total {sum(long_tasks):.0f} ms, "
          f"longest {max(long_tasks, default=0):.0f} ms")
    print(f"  renderer main thread busy {result['busy_s']:.1f} s of {result['wall_s']:.1f} s "
          f"= {100 * result['busy_s'] / result['wall_s']:.0f}% of one core")
    print(f"  chart: {result['chart']}; JS heap {result['heap_mb']:.0f} MB")
    timing = {k: round(v) for k, v in result["timing"].items()}
    print(f"  page work per part (ms): {timing}")
    if result["errors"]:
        print(f"  page errors: {result['errors']}")
        sys.exit(1)


if __name__ == "__main__":
    trio.run(main)
