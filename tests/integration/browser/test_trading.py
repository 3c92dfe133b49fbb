"""Trading in a replay from the page: step, buy, a limit by a click on the chart, cancel, close."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import Page

from livesim.market.store import upsert_candles
from livesim.sim.candles import Candle
from tests.support.api import MINUTE, all_events
from tests.support.browser import chromium, in_browser, new_page, screenshot
from tests.support.server import Server
from tests.support.stubs import START_MS

USER = "demo"  # the page's dev user
MARKET = "RISE"


def rising(count: int) -> list[Candle]:
    """Every candle above the last: a limit buy under the chart's lowest low never fills."""
    out = []
    for i in range(count):
        open_ = 100 + i * 0.1
        out.append(Candle(START_MS + i * MINUTE, round(open_, 4), round(open_ + 0.15, 4),
                          round(open_ - 0.05, 4), round(open_ + 0.1, 4), 10.0))
    return out


@pytest.fixture
async def rising_market(server: Server) -> Server:
    await upsert_candles(server.db, MARKET, "1m", rising(300))
    return server


def chart(page: Page) -> dict[str, Any]:
    summary: dict[str, Any] = page.evaluate("() => window.__livesim.chart()")
    return summary


def wait_chart(page: Page, condition: str) -> None:
    page.wait_for_function(
        f"() => {{ const c = window.__livesim && window.__livesim.chart && "
        f"window.__livesim.chart(); return !!c && ({condition}); }}")


def readout(page: Page, label: str) -> str:
    text: str = page.eval_on_selector(
        "#readout", f"dl => {{ const dt = [...dl.querySelectorAll('dt')].find(d => "
                    f"d.textContent === {label!r}); return dt ? dt.nextElementSibling.textContent "
                    f": ''; }}")
    return text


def step_one(page: Page) -> None:
    """Release one candle and wait until the chart has it."""
    before = chart(page)["receivedBars"]
    page.fill("#step-n", "1")
    page.click("#step")
    wait_chart(page, f"c.receivedBars >= {before + 1}")


def trade_on_the_page(url: str) -> dict[str, Any]:
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        page.goto(url)
        page.wait_for_selector(f'select[name=market] option[value="{MARKET}|1m"]',
                               state="attached")
        page.select_option("select[name=market]", f"{MARKET}|1m")
        page.fill("input[name=speed]", "60")
        page.select_option("select[name=profileSlug]", "manual")
        page.click("#create-form button[type=submit]")
        page.wait_for_function("() => location.pathname.startsWith('/sessions/')")
        session_id = page.evaluate("() => location.pathname.split('/')[2]")
        page.click("#pause")
        page.wait_for_selector("#session-status.paused")
        time.sleep(0.5)  # candles written before the pause took effect
        start = chart(page)["receivedBars"]

        page.fill("#step-n", "3")
        page.click("#step")
        wait_chart(page, f"c.receivedBars >= {start + 3}")
        time.sleep(0.5)
        stepped = chart(page)["receivedBars"] - start  # paused again after three

        # a market buy of 2: pending until the next candle, filled at its open
        page.select_option("#order-type", "market")
        page.fill("#order-size", "2")
        page.fill("#order-sl", "100")
        page.fill("#order-tp", "101.2")
        page.click("#buy")
        page.wait_for_selector("#open-orders tbody tr")
        pending_row = page.inner_text("#open-orders tbody tr")
        step_one(page)
        wait_chart(page, "c.userFills >= 1")
        page.wait_for_function("() => !document.querySelector('#open-orders tbody tr')")
        page.wait_for_function(
            "() => [...document.querySelectorAll('#readout dt')].some(d => d.textContent === "
            "'Position' && d.nextElementSibling.textContent === '2')")
        position = readout(page, "Position")
        wait_chart(page, "c.levels === 2")  # the trade's SL and TP lines

        # a limit buy at the price clicked on the chart, under every low shown
        page.select_option("#order-type", "limit")
        page.fill("#order-size", "1")
        page.fill("#order-sl", "")
        page.fill("#order-tp", "")
        summary = chart(page)
        x = page.evaluate(f"() => window.__livesim.xOf({summary['lastTs']})")
        y = page.evaluate(f"() => window.__livesim.yOf({summary['low']})")
        page.click("#chart", position={"x": x, "y": y})
        picked = float(page.input_value("#order-price"))
        seek_field = page.input_value("#seek-to")
        page.click("#buy")
        step_one(page)
        page.wait_for_selector("#open-orders tbody tr:has-text('open')")
        open_row = page.inner_text("#open-orders tbody tr")
        screenshot(page, "desk-trading")

        page.click("#open-orders .cancel-order")
        step_one(page)
        page.wait_for_function("() => !document.querySelector('#open-orders tbody tr')")
        page.wait_for_selector("#feed li:has-text('cancelled')")

        page.click("#close-position")
        step_one(page)
        page.wait_for_function(
            "() => [...document.querySelectorAll('#readout dt')].some(d => d.textContent === "
            "'Open trade' && d.nextElementSibling.textContent === 'none')")
        feed = page.inner_text("#feed")

        # seek to a typed time: every candle before it, then paused; backwards is refused
        target = chart(page)["lastTs"] + 10 * 60_000
        page.fill("#seek-to", time.strftime("%Y-%m-%dT%H:%M", time.gmtime(target / 1000)))
        page.click("#seek")
        wait_chart(page, f"c.lastTs === {target - 60_000}")
        page.fill("#seek-to", time.strftime("%Y-%m-%dT%H:%M", time.gmtime(START_MS / 1000)))
        page.click("#seek")
        page.wait_for_selector("#ticket-error:not(:empty)")
        seek_error = page.inner_text("#ticket-error")
        page.fill("#bps", "2")
        page.click("#set-bps")
        page.wait_for_function("() => document.querySelector('#speed').value === '120'",
                               timeout=10_000)  # two 1m bars a second, shown as 120x
        page.click("#stop")
        page.wait_for_selector("#results:not([hidden])")
        page.wait_for_selector("#trades tbody tr", state="attached")
        rows = page.eval_on_selector_all(
            "#trades tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))")
        screenshot(page, "desk-trading-stopped")
        assert page.is_disabled("#buy")  # a session that is over takes no orders
        return {"session_id": session_id, "errors": errors, "stepped": stepped,
                "pending_row": pending_row, "position": position, "picked": picked,
                "low": summary["low"], "lastTs": summary["lastTs"], "seek_field": seek_field,
                "open_row": open_row, "feed": feed, "rows": rows, "chart": chart(page),
                "seek_error": seek_error, "target": target}


async def test_a_person_trades_a_manual_session_from_the_page(rising_market: Server) -> None:
    server = rising_market
    outcome = await in_browser(trade_on_the_page, server.url)
    async with server.client(USER) as client:
        log = await all_events(client, outcome["session_id"])
    # the refused seek is Chromium's one network line; nothing else went wrong
    assert [e for e in outcome["errors"] if "status of 409" not in e] == []
    assert len(outcome["errors"]) <= 1
    assert outcome["stepped"] == 3
    assert "pending" in outcome["pending_row"]
    assert outcome["position"] == "2"
    # the click picked the price under the pointer (to a pixel's worth) and the bar's time
    assert abs(outcome["picked"] - outcome["low"]) < 0.05
    assert outcome["picked"] == round(outcome["picked"], 4)  # rounded for a person
    assert outcome["seek_field"] == time.strftime("%Y-%m-%dT%H:%M",
                                                  time.gmtime(outcome["lastTs"] / 1000))
    assert "limit" in outcome["open_row"]
    assert "open" in outcome["open_row"]

    submitted = [e["payload"] for e in log if e["type"] == "order_submitted"]
    assert [p["source"] for p in submitted] == ["user", "user", "user"]
    market, limit, close = submitted
    assert (market["type"], market["side"], market["qty"]) == ("market", "buy", 2)
    assert (market["stopLoss"], market["takeProfit"]) == (100, 101.2)
    assert (limit["type"], limit["side"]) == ("limit", "buy")
    assert limit["limitPrice"] == pytest.approx(outcome["picked"])
    assert market["clientOrderId"].startswith("web-")
    assert close["side"] == "sell"
    cancelled = [e["payload"] for e in log if e["type"] == "order_cancelled"]
    assert [c["orderId"] for c in cancelled] == [limit["orderId"]]
    fills = [e["payload"]["orderId"] for e in log if e["type"] == "order_filled"]
    assert fills == [market["orderId"], close["orderId"]]
    assert outcome["chart"]["userFills"] == 2  # the person's fills, marked as theirs
    assert f"cancelled {limit['orderId']}" in outcome["feed"]

    candles = [e for e in log if e["type"] == "candle"]
    assert any(c["ts"] == outcome["target"] - MINUTE for c in candles)
    assert "forward only" in outcome["seek_error"]  # seek_backwards, said on the page

    # the trades table is the log's trade
    closed = [e["payload"] for e in log if e["type"] == "trade_closed"]
    assert len(closed) == 1
    assert len(outcome["rows"]) == 1
    row, trade = outcome["rows"][0], closed[0]
    assert int(row[0]) == trade["tradeId"]
    assert row[1] == trade["side"] == "long"
    assert float(row[2]) == trade["qty"] == 2
    assert float(row[4]) == pytest.approx(trade["entryPrice"])
    assert float(row[6]) == pytest.approx(trade["exitPrice"])
