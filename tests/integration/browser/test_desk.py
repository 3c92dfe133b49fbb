"""The replay desk in a real browser: create, watch, steer, stop, results, reload, errors."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest
from playwright.sync_api import Page

from livesim.market.store import upsert_candles
from tests.support.api import MINUTE, all_events, wait_status
from tests.support.browser import chromium, in_browser, new_page, screenshot
from tests.support.server import Server
from tests.support.stubs import START_MS, candle_series

USER = "demo"  # the page's dev user unless one is typed in
MARKET = "DESK"
CANDLES = 3000


@pytest.fixture
async def desk_market(server: Server) -> Server:
    await upsert_candles(server.db, MARKET, "1m", candle_series(CANDLES))
    return server


def probe(page: Page, expression: str) -> Any:
    return page.evaluate(f"() => window.__livesim.{expression}")


def wait_probe(page: Page, condition: str, timeout_ms: float = 20_000) -> None:
    """Wait until ``condition`` holds; it reads the page's probe as ``l``."""
    page.wait_for_function(f"() => {{ const l = window.__livesim; return !!l && ({condition}); }}",
                           timeout=timeout_ms)


def bars(page: Page) -> int:
    """Candles the chart has received (it shows the newest WINDOW_BARS of them)."""
    count: int = probe(page, "chart().receivedBars")
    return count


def close_to(text: str, value: float, digits: int) -> bool:
    return abs(float(text) - value) <= 0.5 * 10 ** -digits + 1e-9


def create_watch_steer_stop(url: str) -> dict[str, Any]:
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        page.goto(url)
        page.wait_for_selector(f'select[name=market] option[value="{MARKET}|1m"]',
                               state="attached")
        page.select_option("select[name=market]", f"{MARKET}|1m")
        page.fill("input[name=speed]", "2000")
        page.select_option("select[name=profileSlug]", "sma-cross")
        page.fill("input[name='config.fast']", "3")
        page.fill("input[name='config.slow']", "8")
        page.fill("input[name='config.stopLossPct']", "0.5")
        page.fill("input[name='config.takeProfitPct']", "1")
        page.click("#create-form button[type=submit]")
        page.wait_for_function("() => location.pathname.startsWith('/sessions/')")
        session_id = page.evaluate("() => location.pathname.split('/')[2]")

        # candles render, and the chart's series (its own data(), not our count) grows
        wait_probe(page, "l.chart && l.chart().bars >= 20")
        first = probe(page, "chart().bars")
        wait_probe(page, f"l.chart().bars > {first}")
        wait_probe(page, "l.chart().markers > 0")  # a fill / trade marker
        wait_probe(page, "l.chart().levels > 0")  # SL / TP lines while a trade is open
        assert page.is_visible("#stream-state.stream-live")

        page.click("#pause")
        page.wait_for_selector("#session-status.paused")
        time.sleep(0.4)  # events already written before the pause took effect
        paused_at = bars(page)
        time.sleep(1.0)
        assert bars(page) == paused_at  # paused: the chart stands still
        page.click("#play")
        page.wait_for_selector("#session-status.running")
        wait_probe(page, f"l.chart().receivedBars > {paused_at}")  # resumed: it moves again

        page.click("#stop")
        wait_probe(page, "l.finished === true")
        page.wait_for_selector("#results:not([hidden])")
        assert page.inner_text("#session-status") == "stopped"
        page.wait_for_selector("#trades tbody tr", state="attached")
        screenshot(page, "desk-stopped")
        stats = page.eval_on_selector_all(
            "#stats dd", "dds => Object.fromEntries(dds.map(d => [d.dataset.stat, "
                         "d.textContent]))")
        rows = page.eval_on_selector_all(
            "#trades tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))")
        # hovering the bar where the last trade closed tells its P&L
        exit_ms = int(datetime.fromisoformat(rows[-1][5] + "+00:00").timestamp() * 1000)
        x = page.evaluate(f"() => window.__livesim.xOf({exit_ms})")
        page.hover("#chart", position={"x": x, "y": 150})
        page.wait_for_selector("#tooltip:not([hidden])")
        tooltip = page.inner_text("#tooltip")
        screenshot(page, "desk-hover")
        return {"session_id": session_id, "tooltip": tooltip, "errors": errors,
                "seqs": probe(page, "seqs"), "chart": probe(page, "chart()"), "stats": stats,
                "rows": rows}


async def test_create_watch_pause_resume_stop_and_read_the_results(
        desk_market: Server) -> None:
    server = desk_market
    outcome = await in_browser(create_watch_steer_stop, server.url)
    async with server.client(USER) as client:
        log = await all_events(client, outcome["session_id"])
    assert outcome["errors"] == []
    assert log[-1]["type"] == "session_stopped"
    # every event once, in order, up to the end
    assert outcome["seqs"] == list(range(1, log[-1]["seq"] + 1))
    candles = sum(e["type"] == "candle" for e in log)
    assert outcome["chart"]["receivedBars"] == candles
    assert outcome["chart"]["bars"] == min(candles, 2000)  # the chart's window
    fills = sum(e["type"] == "order_filled" for e in log)
    closed = [e["payload"] for e in log if e["type"] == "trade_closed"]
    assert outcome["chart"]["receivedMarkers"] == fills + len(closed)
    stats = log[-1]["payload"]["stats"]
    for key, digits in (("finalEquity", 2), ("returnPct", 2), ("trades", 0),
                        ("maxDrawdownPct", 2), ("commissions", 2)):
        assert close_to(outcome["stats"][key], stats[key], digits), key
    rows = outcome["rows"]
    assert len(rows) == len(closed) == stats["trades"] > 0
    last = closed[-1]
    assert f"trade #{last['tradeId']} {last['side']} closed: P&L" in outcome["tooltip"]
    assert f"{last['pnl']:+.2f}"[:-1] in outcome["tooltip"]  # the P&L, to the cent
    for row, trade in zip(rows, closed, strict=True):
        assert int(row[0]) == trade["tradeId"]
        assert row[1] == trade["side"]
        assert float(row[2]) == trade["qty"]
        assert close_to(row[4], trade["entryPrice"], 6)
        assert close_to(row[6], trade["exitPrice"], 6)
        assert close_to(row[7], trade["pnl"], 2)


def drop_reload_finish(url: str, session_id: str) -> dict[str, Any]:
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        page.goto(f"{url}/sessions/{session_id}")
        wait_probe(page, "l.seqs && l.seqs.length >= 40")
        # The first events come from the catch-up read, before the stream opens: drop
        # the stream itself, once it is live (a drop before it exists does nothing).
        page.wait_for_selector("#stream-state.stream-live")
        # A network drop while tickets cannot be had: the page says it is reconnecting.
        page.route("**/stream-ticket", lambda route: route.abort())
        page.evaluate("() => window.__livesim.stream.drop()")
        page.wait_for_selector("#stream-state.stream-reconnecting")
        assert page.inner_text("#stream-state") == "reconnecting…"
        reconnecting_shot = screenshot(page, "desk-reconnecting")
        time.sleep(1.0)
        page.unroute("**/stream-ticket")
        page.wait_for_selector("#stream-state.stream-live", timeout=15_000)
        before = len(probe(page, "seqs"))
        wait_probe(page, f"l.seqs.length > {before + 20}")
        seqs_before_reload = probe(page, "seqs")
        page.reload()  # mid-session
        wait_probe(page, "l.finished === true", timeout_ms=60_000)
        page.wait_for_selector("#results:not([hidden])")
        page.wait_for_selector("#trades tbody tr", state="attached")
        page.hover("#chart", position={"x": 500, "y": 200})
        finished_shot = screenshot(page, "desk-finished")
        return {"errors": errors, "before": seqs_before_reload, "after": probe(page, "seqs"),
                "states": probe(page, "streamStates"), "chart": probe(page, "chart()"),
                "shots": [str(reconnecting_shot), str(finished_shot)]}


async def test_drop_and_reload_mid_session_resume_without_gap_or_duplicate(
        desk_market: Server) -> None:
    server = desk_market
    async with server.client(USER) as client:
        body = {"profileSlug": "sma-cross", "symbol": MARKET, "timeframe": "1m",
                "startMs": START_MS, "endMs": START_MS + 600 * MINUTE, "speed": 3000,
                "config": {"fast": 3, "slow": 8}}
        session = (await client.post("/api/sim/sessions", json=body)).json()
        outcome = await in_browser(drop_reload_finish, server.url, session["id"])
        await wait_status(client, session["id"], "finished")
        log = await all_events(client, session["id"])
    assert outcome["errors"] == []
    # across the drop: contiguous from 1, nothing twice
    before = outcome["before"]
    assert before == list(range(1, len(before) + 1))
    assert len(before) < len(log)  # the reload really was mid-session
    # after the reload: the whole log once, in order
    assert outcome["after"] == [e["seq"] for e in log]
    assert outcome["chart"]["bars"] == 600
    assert outcome["states"][-1] == "ended"


def form_errors(url: str) -> dict[str, Any]:
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        page.goto(url)
        page.wait_for_selector('select[name=market] option[value="TEST|1m"]', state="attached")
        page.select_option("select[name=market]", "TEST|1m")
        page.select_option("select[name=profileSlug]", "sma-cross")
        page.fill("input[name='config.fast']", "0")
        page.fill("input[name=speed]", "fast")
        page.click("#create-form button[type=submit]")
        page.wait_for_selector(".field-error")
        shown = page.eval_on_selector_all(
            "#create-form .field-error",
            "nodes => nodes.map(n => [n.dataset.field, n.textContent, "
            "n.previousElementSibling.querySelector('[name]').name])")
        # speed fixed, only the config error is left
        page.fill("input[name=speed]", "100")
        page.click("#create-form button[type=submit]")
        page.wait_for_function("() => document.querySelectorAll('.field-error').length === 1")
        config_only = page.eval_on_selector_all(
            "#create-form .field-error",
            "nodes => nodes.map(n => [n.dataset.field, n.textContent, "
            "n.previousElementSibling.querySelector('[name]').name])")
        screenshot(page, "desk-config-error")
        # a CSV with bad rows: each problem with its line number, nothing imported
        page.fill("#import-form input[name=symbol]", "BAD")
        page.set_input_files("#import-form input[name=file]", files=[{
            "name": "bad.csv", "mimeType": "text/csv", "buffer": (
                b"time,open,high,low,close,volume\n"
                b"2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n"
                b"2024-01-01T00:01:00Z,1,0.5,2,1.5,10\n"
                b"2024-01-01T00:02:00Z,1,2,0.5,x,10\n")}])
        page.click("#import-form button[type=submit]")
        page.wait_for_selector("#import-errors li")
        import_lines = page.eval_on_selector_all("#import-errors li",
                                                 "nodes => nodes.map(n => n.textContent)")
        return {"errors": errors, "shown": shown, "config_only": config_only,
                "import_lines": import_lines, "path": page.evaluate("() => location.pathname")}


async def test_errors_are_shown_next_to_their_fields(server: Server) -> None:
    outcome = await in_browser(form_errors, server.url)
    # the API's 400s appear in the console as failed requests; nothing else may
    assert all("400" in e for e in outcome["errors"]), outcome["errors"]
    assert outcome["path"] == "/"  # nothing was created
    by_field = {field: (message, name) for field, message, name in outcome["shown"]}
    assert by_field["speed"][1] == "speed"
    assert by_field["speed"][0]
    assert outcome["config_only"][0][0] == "config.fast"
    assert outcome["config_only"][0][2] == "config.fast"  # next to the fast input
    assert ">= 1" in outcome["config_only"][0][1]
    lines = outcome["import_lines"]
    assert any(line.startswith("line 3") for line in lines), lines
    assert any(line.startswith("line 4") for line in lines), lines
    async with server.client(USER) as client:
        markets = (await client.get("/api/markets")).json()["markets"]
    assert "BAD" not in [m["symbol"] for m in markets]

