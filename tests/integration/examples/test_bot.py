"""examples/bot.py, run as a person would run it, trades a manual session over a real server."""

from __future__ import annotations

import sys

import httpx
import trio

from livesim.config import PROJECT_ROOT
from tests.support.api import all_events, wait_status
from tests.support.server import Server

BOT = PROJECT_ROOT / "examples" / "bot.py"


async def test_bot_trades_a_manual_session_through_the_orders_api(
        server: Server, client: httpx.AsyncClient) -> None:
    # the bot creates a manual session over 60 stored candles at 600x (100 ms apart)
    with trio.fail_after(60):
        done = await trio.run_process(
            [sys.executable, str(BOT), "--url", server.url, "--user", "alice",
             "--create", "TEST", "1m", "2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z",
             "--speed", "600", "--fast", "3", "--slow", "8"],
            capture_stdout=True, capture_stderr=True, check=False)
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr.decode()
    session_id = out.splitlines()[0].removeprefix("session ")
    await wait_status(client, session_id, "finished")
    events = await all_events(client, session_id)

    said = [line.split(" as ")[1] for line in out.splitlines() if " as bot-" in line]
    submitted = [e["payload"] for e in events if e["type"] == "order_submitted"]
    by_user = [p for p in submitted if p["source"] == "user"]
    # every buy the bot announced is in the log as the user's, with its clientOrderId
    assert said
    assert [p["clientOrderId"] for p in by_user if p["side"] == "buy"] == said
    assert all(p["source"] != "strategy" for p in submitted)  # manual: nobody else trades
    filled = {e["payload"]["orderId"] for e in events if e["type"] == "order_filled"}
    assert all(p["orderId"] in filled for p in by_user)
    closed = [e for e in events if e["type"] == "trade_closed"]
    closes_sent = out.count("close position")
    assert closes_sent >= 1
    # each close the bot asked for closed a trade (the last trade may close at end of data)
    assert closes_sent <= len(closed) <= closes_sent + 1
    assert f"{len(said) + closes_sent} orders sent" in out
