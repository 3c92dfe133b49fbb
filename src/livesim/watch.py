"""``livesim watch``: a live view of one session in the terminal.

Rendering is rich's (tables, a progress bar, ``Live`` redrawing in place); the loop
is ours, in trio, like the rest of livesim: one task reads the SSE stream, one reads
keys, one redraws at most :data:`FRAME_S` apart.  rich fits that split: it only
renders, and ``Live(auto_refresh=False)`` starts no thread.  (textual would have
brought its own asyncio loop and widgets we would not use.)

The stream resumes after a dropped connection from the last seq seen
(``Last-Event-ID``), so no event is shown twice or missed.  Keys, sent to the control
API: ``p`` pause, ``r`` resume, ``+``/``-`` speed up/down a step of
:data:`SPEED_STEPS`, ``s`` stop, ``q`` quit.  Ctrl-C quits too, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import termios
import tty
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import trio
from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from livesim.client import ClientError, auth_headers, base_url, checked, describe_error
from livesim.config import Settings
from livesim.market.checks import iso
from livesim.sim.candles import timeframe_ms

RECONNECT_S = (0.5, 1.0, 2.0, 5.0)
FRAME_S = 0.1
SPARK = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 60
SHOWN_TRADES = 8
SPEED_STEPS: tuple[float | str, ...] = (1, 2, 5, 10, 30, 60, 120, 200, "max")
TERMINAL = ("session_finished", "session_stopped", "session_failed")


@dataclass
class View:
    """What the screen shows; updated by events, rendered by :func:`render`."""

    session: dict[str, Any]
    last_seq: int = 0
    candle: dict[str, Any] | None = None
    closes: deque[float] = field(default_factory=lambda: deque(maxlen=SPARK_WIDTH))
    equity: dict[str, Any] | None = None
    position: dict[str, Any] | None = None  # the open trade, if any
    trades: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=SHOWN_TRADES))
    trade_count: int = 0
    ended: str | None = None  # the terminal event's type
    stats: dict[str, Any] | None = None
    note: str = "connecting"

    def apply(self, event: dict[str, Any]) -> None:
        """Fold one event of the log into the view."""
        kind, payload = event["type"], event["payload"]
        self.last_seq = event["seq"]
        if kind == "candle":
            self.candle = payload
            self.closes.append(payload["close"])
        elif kind == "equity":
            self.equity = payload
        elif kind == "trade_opened":
            self.position = payload
        elif kind == "trade_closed":
            self.position = None
            self.trades.append(payload)
            self.trade_count += 1
        elif kind in TERMINAL:
            self.ended = kind
            self.session["status"] = kind.removeprefix("session_")
            self.stats = payload.get("stats")

    def progress(self) -> float:
        """The share of the range replayed, from the last candle's close time."""
        start: int = self.session["startMs"]
        end: int = self.session["endMs"]
        if self.ended == "session_finished":
            return 1.0
        if self.candle is None or end <= start:
            return 0.0
        done: int = self.candle["ts"] + timeframe_ms(self.session["timeframe"]) - start
        return min(1.0, max(0.0, done / (end - start)))


def sparkline(values: deque[float] | list[float]) -> str:
    """One block character per value, scaled between their min and max."""
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    return "".join(SPARK[min(len(SPARK) - 1, int((v - low) / span * len(SPARK)))]
                   for v in values)


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _signed(value: float | None) -> Text:
    if value is None:
        return Text("-")
    return Text(f"{value:+,.2f}", style="green" if value >= 0 else "red")


def render(view: View) -> Group:
    """The whole screen for ``view``."""
    s = view.session
    speed = s.get("speed")
    head = Text.assemble(
        ("livesim watch ", "bold"), f"{s['id'][:8]}  ", (f"{s['symbol']} {s['timeframe']}", "bold"),
        f"  {s['profileSlug']}  ", (s["status"], "bold cyan"),
        f"  speed {speed if speed == 'max' else f'{speed}x'}")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", justify="right")
    grid.add_column()
    c = view.candle
    grid.add_row("candle", "waiting for the first candle" if c is None else
                 f"{iso(c['ts'])}  O {c['open']}  H {c['high']}  L {c['low']}  "
                 f"C {c['close']}  V {c['volume']}")
    grid.add_row("price", Text(sparkline(view.closes), style="cyan"))
    pos = view.position
    grid.add_row("position", "flat" if pos is None else
                 f"{pos['side']} {pos['qty']} @ {pos['entryPrice']} since {iso(pos['entryTs'])}")
    eq = view.equity or {}
    grid.add_row("equity", Text.assemble(
        _money(eq.get("equity")), "   realized ", _signed(eq.get("realizedPnl")),
        "   unrealized ", _signed(eq.get("unrealizedPnl")),
        f"   drawdown {eq.get('drawdownPct', 0):.2f}%"))
    now = iso(c["ts"]) if c else iso(s["startMs"])
    bar = Table.grid(padding=(0, 1))
    bar.add_row(ProgressBar(total=1.0, completed=view.progress(), width=30),
                f"{view.progress():6.1%}  {now}  (to {iso(s['endMs'])})")
    grid.add_row("progress", bar)
    trades = Table(title=f"trades ({view.trade_count} closed)", title_justify="left",
                   expand=False, box=None, header_style="dim")
    for name in ("#", "side", "qty", "entry", "price", "exit", "price", "pnl"):
        trades.add_column(name, justify="right")
    for t in view.trades:
        trades.add_row(str(t["tradeId"]), t["side"], str(t["qty"]), iso(t["entryTs"]),
                       str(t["entryPrice"]), iso(t["exitTs"]), str(t["exitPrice"]),
                       _signed(t["pnl"]))
    parts: list[Any] = [head, grid, trades]
    if view.stats:
        parts.append(Text("stats  " + "  ".join(
            f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
            for k, v in sorted(view.stats.items())), style="bold"))
    parts.append(Text(f"keys: p pause  r resume  + faster  - slower  s stop  q quit"
                      f"    seq {view.last_seq}  {view.note}", style="dim"))
    return Group(*parts)


def next_speed(current: float | str, faster: bool) -> float | str:
    """The next step of :data:`SPEED_STEPS` above (or below) ``current``."""
    rank = [float("inf") if s == "max" else float(s) for s in SPEED_STEPS]
    value = float("inf") if current == "max" else float(current)
    if faster:
        return next((s for s, r in zip(SPEED_STEPS, rank, strict=True) if r > value), "max")
    lower = [s for s, r in zip(SPEED_STEPS, rank, strict=True) if r < value]
    return lower[-1] if lower else SPEED_STEPS[0]


class Watcher:
    """The three tasks (stream, keys, frames) around one :class:`View`."""

    def __init__(self, client: httpx.AsyncClient, view: View, live: Live) -> None:
        self.client = client
        self.view = view
        self.live = live
        self.dirty = trio.Event()

    def changed(self, note: str | None = None) -> None:
        if note is not None:
            self.view.note = note
        self.dirty.set()

    async def follow(self) -> None:
        """Stream events into the view until the terminal event, resuming by seq."""
        url = f"/api/sim/sessions/{self.view.session['id']}/stream"
        failures = 0
        while self.view.ended is None:
            try:
                headers = {"Last-Event-ID": str(self.view.last_seq)}
                async with self.client.stream("GET", url, headers=headers,
                                              timeout=httpx.Timeout(10.0, read=None)) as reply:
                    if reply.status_code == 204:
                        self.changed("the session has ended")
                        return
                    if reply.status_code != 200:
                        await reply.aread()
                        raise ClientError(describe_error(reply))
                    failures = 0
                    self.changed("connected")
                    async for line in reply.aiter_lines():
                        if line.startswith("data: "):
                            self.view.apply(json.loads(line[6:]))
                            self.changed()
            except httpx.TransportError as error:
                pause = RECONNECT_S[min(failures, len(RECONNECT_S) - 1)]
                failures += 1
                self.changed(f"connection lost ({error.__class__.__name__}); "
                             f"resuming after seq {self.view.last_seq} in {pause:.1f} s")
                await trio.sleep(pause)
        self.changed("ended")

    async def draw(self) -> None:
        """Redraw when something changed, at most once per :data:`FRAME_S`."""
        while True:
            await self.dirty.wait()
            self.dirty = trio.Event()
            self.live.update(render(self.view), refresh=True)
            await trio.sleep(FRAME_S)

    async def keys(self, stream: trio.lowlevel.FdStream, done: trio.CancelScope) -> None:
        """Act on key presses until ``q``."""
        while data := await stream.receive_some(64):
            for key in data.decode(errors="ignore"):
                if key == "q":
                    done.cancel()
                    return
                await self.key(key)

    async def key(self, key: str) -> None:
        actions: dict[str, dict[str, float | str]] = {
            "p": {"action": "pause"}, "r": {"action": "resume"}, "s": {"action": "stop"}}
        body: dict[str, float | str]
        if key in "+-":
            body = {"action": "speed",
                    "speed": next_speed(self.view.session["speed"], key == "+")}
        elif key in actions:
            body = actions[key]
        else:
            return
        reply = await self.client.post(f"/api/sim/sessions/{self.view.session['id']}/control",
                                       json=body)
        if reply.is_success:
            session = reply.json()
            self.view.session.update(status=session["status"], speed=session["speed"])
            self.changed(f"{body['action']}: ok")
        else:
            self.changed(describe_error(reply).splitlines()[0])


@contextmanager
def _cbreak(fd: int) -> Iterator[None]:
    # keys arrive one at a time, unechoed; Ctrl-C still raises SIGINT
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


async def watch(args: argparse.Namespace, settings: Settings, console: Console) -> None:
    """Show the session until its terminal event, ``q`` or Ctrl-C."""
    async with httpx.AsyncClient(base_url=base_url(args, settings),
                                 headers=auth_headers(args), timeout=10.0) as client:
        try:
            session = checked(await client.get(f"/api/sim/sessions/{args.session_id}"))
        except httpx.TransportError as error:
            raise ClientError(f"cannot reach {client.base_url} ({error.__class__.__name__})"
                              ) from None
        view = View(session)
        with Live(render(view), console=console, auto_refresh=False,
                  redirect_stdout=False, redirect_stderr=False) as live:
            watcher = Watcher(client, view, live)
            with trio.CancelScope() as done, \
                    trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(_cancel_on_signal, signals, done)
                    nursery.start_soon(watcher.draw)
                    if sys.stdin.isatty():
                        stream = trio.lowlevel.FdStream(os.dup(sys.stdin.fileno()))
                        nursery.start_soon(watcher.keys, stream, done)
                    await watcher.follow()
                    nursery.cancel_scope.cancel()
            live.update(render(view), refresh=True)


async def _cancel_on_signal(signals: Any, done: trio.CancelScope) -> None:
    async for _ in signals:
        done.cancel()
        return


def run_watch(args: argparse.Namespace, settings: Settings) -> None:
    """Blocking entry point of ``livesim watch``."""
    console = Console()
    if sys.stdin.isatty():
        with _cbreak(sys.stdin.fileno()):
            trio.run(watch, args, settings, console)
    else:
        trio.run(watch, args, settings, console)
