"""``livesim watch``: the screen as a person reads it, and a real run in a pseudo-terminal."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from collections.abc import Callable
from typing import Any

import httpx
import trio
from rich.console import Console

from livesim.market.checks import iso
from livesim.watch import View, Watcher, next_speed, render, sparkline
from tests.support.stubs import START_MS

M = 60_000
ANSI = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|\][^\x07]*\x07|[()][A-Z0-9])")
SESSION = {"id": "3f2b8c1e-0000-4000-8000-000000000001", "symbol": "DEMO-BTC",
           "timeframe": "1m", "profileSlug": "sma-cross", "status": "running", "speed": 60,
           "startMs": START_MS, "endMs": START_MS + 100 * M}


def screen(view: View, width: int = 110) -> str:
    console = Console(record=True, width=width, force_terminal=False, color_system=None)
    console.print(render(view))
    return console.export_text()


def event(seq: int, kind: str, at: int, **payload: object) -> dict[str, object]:
    return {"seq": seq, "ts": at, "type": kind, "payload": payload}


def plain(data: bytes) -> str:
    # what a person reads: the terminal's escape sequences (colours, cursor) removed
    return ANSI.sub("", data.decode(errors="replace"))


def test_render_shows_candle_price_line_position_pnl_trades_and_iso_progress() -> None:
    view = View(dict(SESSION))
    for i in range(25):
        ts = START_MS + i * M
        view.apply(event(2 * i + 2, "candle", ts, ts=ts, open=100.0 + i, high=101.0 + i,
                         low=99.0 + i, close=100.5 + i, volume=3.0))
    view.apply(event(60, "trade_closed", START_MS + 20 * M, tradeId=1, side="long", qty=3,
                     entryTs=START_MS + 5 * M, entryPrice=105.0, exitTs=START_MS + 20 * M,
                     exitPrice=120.0, pnl=45.0, commission=0.0))
    view.apply(event(61, "trade_opened", START_MS + 24 * M, tradeId=2, side="short", qty=2,
                     entryTs=START_MS + 24 * M, entryPrice=124.5))
    view.apply(event(62, "equity", START_MS + 24 * M, equity=10_045.0, cash=10_294.0,
                     positionQty=-2, unrealizedPnl=-1.25, realizedPnl=45.0, drawdownPct=0.5))
    text = screen(view)
    assert f"candle  {iso(START_MS + 24 * M)}  O 124.0  H 125.0  L 123.0  C 124.5" in text
    assert sparkline([100.5 + i for i in range(25)]) in text
    assert "position  short 2 @ 124.5" in text
    assert "10,045.00   realized +45.00   unrealized -1.25" in text
    assert f"25.0%  {iso(START_MS + 24 * M)}" in text  # 25 of 100 candles replayed
    assert "trades (1 closed)" in text
    assert f"{iso(START_MS + 5 * M)}  105.0  {iso(START_MS + 20 * M)}  120.0  +45.00" in text
    assert "seq 62" in text
    assert all(len(line) <= 110 for line in text.splitlines())


def test_render_after_finish_shows_full_progress_and_stats() -> None:
    view = View(dict(SESSION))
    view.apply(event(9, "session_finished", START_MS + 99 * M,
                     stats={"returnPct": 1.23456, "trades": 4}))
    text = screen(view)
    assert "finished" in text
    assert "100.0%" in text
    assert "returnPct 1.23  trades 4" in text


def test_next_speed_steps_up_to_max_and_down_to_one() -> None:
    assert next_speed(60, faster=True) == 120
    assert next_speed(200, faster=True) == "max"
    assert next_speed("max", faster=False) == 200
    assert next_speed(7, faster=False) == 5
    assert next_speed(1, faster=False) == 1


async def read_until(master: int, buffer: bytearray, found: Callable[[str], bool],
                     within_s: float = 20) -> str:
    with trio.fail_after(within_s):
        while not found(plain(buffer)):
            await trio.lowlevel.wait_readable(master)
            buffer += os.read(master, 65536)
    return plain(buffer)


async def shown(client: httpx.AsyncClient, session_id: str, key: str, wanted: object) -> None:
    with trio.fail_after(10):
        while True:
            if (await client.get(f"/api/sim/sessions/{session_id}")).json()[key] == wanted:
                return
            await trio.sleep(0.05)


async def test_watch_in_a_pty_keys_steer_the_session_and_sigint_exits_cleanly(
        base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, headers={"X-Dev-User": "alice"}) as client:
        created = (await client.post("/api/sim/sessions", json={
            "profileSlug": "sma-cross", "symbol": "TEST", "timeframe": "1m",
            "startMs": START_MS, "endMs": START_MS + 600 * M, "speed": 120,
            "config": {"fast": 3, "slow": 8}})).json()
        master, slave = os.openpty()
        os.set_blocking(master, False)
        process = await trio.lowlevel.open_process(
            [sys.executable, "-m", "livesim", "watch", created["id"], "--url", base_url],
            stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
            env={**os.environ, "COLUMNS": "120", "LINES": "40", "TERM": "xterm"})
        os.close(slave)
        output = bytearray()
        try:
            await read_until(master, output, lambda text: "candle  2024-01-01T00:0" in text)
            os.write(master, b"p")
            await shown(client, created["id"], "status", "paused")
            await read_until(master, output, lambda text: "pause: ok" in text)
            os.write(master, b"r+")
            await shown(client, created["id"], "status", "running")
            await shown(client, created["id"], "speed", 200)
            process.send_signal(signal.SIGINT)
            with trio.fail_after(15):
                await process.wait()
            try:
                output += os.read(master, 65536)
            except OSError:
                pass  # the child closed the terminal
        finally:
            if process.returncode is None:
                process.kill()
            with trio.CancelScope(shield=True):
                await process.wait()
            os.close(master)
            await client.post(f"/api/sim/sessions/{created['id']}/control",
                              json={"action": "stop"})
    text = plain(output)
    assert process.returncode == 0, text
    assert "Traceback" not in text
    assert "HTTP Request" not in text  # no library log lines
    assert json.dumps(created["id"])[1:9] in text


async def test_watcher_dropped_connection_resumes_after_last_seq_shown() -> None:
    # the first stream breaks after seq 3; the watcher must ask for what follows seq 3
    asked: list[str] = []
    candles = [event(seq, "candle", START_MS + seq * M, ts=START_MS + seq * M, open=1.0,
                     high=2.0, low=0.5, close=1.5, volume=1.0) for seq in range(1, 6)]
    finished = event(6, "session_finished", START_MS + 6 * M, stats={})

    def sse(events: list[dict[str, object]]) -> bytes:
        return b"".join(f"id: {e['seq']}\nevent: {e['type']}\ndata: {json.dumps(e)}\n\n"
                        .encode() for e in events)

    class Broken(httpx.AsyncByteStream):
        async def __aiter__(self):  # type: ignore[no-untyped-def]
            yield sse(candles[:3])
            raise httpx.ReadError("connection reset")

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.headers["Last-Event-ID"])
        if len(asked) == 1:
            return httpx.Response(200, stream=Broken())
        return httpx.Response(200, content=sse([*candles[3:], finished]))

    view = View(dict(SESSION))
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler),
                                 base_url="http://test") as client:
        live: Any = type("NoScreen", (), {"update": lambda *_a, **_k: None})()
        with trio.fail_after(10):
            await Watcher(client, view, live).follow()
    assert asked == ["0", "3"]
    assert view.last_seq == 6
    assert view.ended == "session_finished"
    assert [round(c) for c in view.closes] == [2] * 5  # each candle once: no repeat
    assert len(view.closes) == 5
