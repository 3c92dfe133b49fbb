"""``livesim sessions``: create, list, show, control and export over a real server."""

from __future__ import annotations

import csv
import io
import json

import httpx
import trio

from livesim.market.checks import iso
from tests.support.cli import livesim
from tests.support.stubs import START_MS

M = 60_000


async def finished(base_url: str, session_id: str) -> dict[str, object]:
    with trio.fail_after(30):
        while True:
            shown = json.loads((await livesim(base_url, "sessions", "show", session_id)).stdout)
            if shown["status"] == "finished":
                return dict(shown)
            await trio.sleep(0.1)


async def all_events(base_url: str, session_id: str) -> list[dict[str, object]]:
    async with httpx.AsyncClient(base_url=base_url, headers={"X-Dev-User": "alice"}) as client:
        reply = await client.get(f"/api/sim/sessions/{session_id}/events",
                                 params={"limit": 1000})
        events: list[dict[str, object]] = reply.json()["events"]
        return events


async def test_sessions_create_iso_times_then_export_matches_the_log(base_url: str) -> None:
    created = json.loads((await livesim(
        base_url, "sessions", "create", "--profile", "sma-cross", "--symbol", "TEST",
        "--timeframe", "5m", "--start", iso(START_MS), "--end", str(START_MS + 600 * M),
        "--speed", "max", "--config", '{"fast": 3, "slow": 8}')).stdout)
    assert (created["timeframe"], created["startMs"]) == ("5m", START_MS)
    await finished(base_url, created["id"])
    listed = (await livesim(base_url, "sessions", "list")).stdout.decode()
    assert created["id"] in listed
    assert "finished" in listed
    events = await all_events(base_url, created["id"])
    trades = (await livesim(base_url, "sessions", "export", created["id"], "trades")).stdout
    rows = list(csv.DictReader(io.StringIO(trades.decode())))
    closed = [e["payload"] for e in events if e["type"] == "trade_closed"]
    assert closed, "the strategy should trade over 120 candles"
    assert [(int(r["tradeId"]), float(r["pnl"])) for r in rows] == [
        (t["tradeId"], t["pnl"]) for t in closed]  # type: ignore[index]
    equity = (await livesim(base_url, "sessions", "export", created["id"], "equity")).stdout
    equity_rows = list(csv.DictReader(io.StringIO(equity.decode())))
    assert len(equity_rows) == sum(e["type"] == "equity" for e in events) == 120
    assert equity_rows[0]["time"] == iso(START_MS)


async def test_sessions_control_pause_then_conflict_is_a_clear_error(base_url: str) -> None:
    created = json.loads((await livesim(
        base_url, "sessions", "create", "--profile", "buy-and-hold", "--symbol", "TEST",
        "--timeframe", "1m", "--start", str(START_MS), "--end", str(START_MS + 600 * M),
        "--speed", "1")).stdout)
    paused = json.loads((await livesim(base_url, "sessions", "control", created["id"],
                                       "pause")).stdout)
    assert paused["status"] == "paused"
    await livesim(base_url, "sessions", "control", created["id"], "stop")
    refused = await livesim(base_url, "sessions", "control", created["id"], "resume",
                            check=False)
    assert refused.returncode == 2
    assert refused.stderr.decode().startswith("livesim: 409 ")
    assert b"Traceback" not in refused.stderr


async def test_sessions_bad_input_and_unknown_session_exit_2_without_traceback(
        base_url: str) -> None:
    bad_time = await livesim(base_url, "sessions", "create", "--profile", "sma-cross",
                             "--symbol", "TEST", "--timeframe", "1m", "--start", "yesterday",
                             "--end", "2024-01-02", check=False)
    assert bad_time.returncode == 2
    assert b"not a time" in bad_time.stderr
    missing = await livesim(base_url, "sessions", "show",
                            "00000000-0000-0000-0000-000000000000", check=False)
    assert (missing.returncode, b"404" in missing.stderr) == (2, True)
    assert b"Traceback" not in missing.stderr + bad_time.stderr
