"""A trading bot for a livesim replay: follows a session's stream, trades a moving-average cross.

The session does the bookkeeping (fills, stops, P&L); the bot only reads candles and sends
orders through the orders API.  An order sent after candle k is taken at the boundary of
candle k+1 (a market order fills at k+1's open), exactly as a strategy's would be.

Run it against a manual session (no strategy of its own, so only the bot trades):

    ./dev run                          # the demo: dev auth, market DEMO-BTC 1m
    python examples/bot.py --url http://127.0.0.1:8000 --user alice \\
        --create DEMO-BTC 1m 2024-01-01T00:00:00Z 2024-01-01T02:00:00Z --speed 600
    python examples/bot.py --url ... --session <id>        # or trade an existing session

Dependencies: the standard library, httpx and httpx-sse (``pip install httpx httpx-sse``).
Authentication: ``--user`` sends ``X-Dev-User`` (a server in dev mode); ``--token`` sends
``Authorization: Bearer`` (an OIDC server).  The bot prints one line per order it sends and
exits when the session ends.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import deque
from datetime import datetime
from typing import Any

import httpx
from httpx_sse import connect_sse

TERMINAL = {"session_finished", "session_stopped", "session_failed"}


class SmaCross:
    """Long when the fast mean of closes is above the slow one, flat otherwise."""

    def __init__(self, fast: int, slow: int) -> None:
        self.fast, self.slow = fast, slow
        self.closes: deque[float] = deque(maxlen=slow)

    def wants_long(self, close: float) -> bool | None:
        """True/False once there are enough closes to say, None before."""
        self.closes.append(close)
        if len(self.closes) < self.slow:
            return None
        window = list(self.closes)
        return sum(window[-self.fast:]) / self.fast > sum(window) / self.slow


def epoch_ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def create_manual_session(http: httpx.Client, symbol: str, timeframe: str, start: str,
                          end: str, speed: float) -> str:
    body = {"profileSlug": "manual", "symbol": symbol, "timeframe": timeframe,
            "startMs": epoch_ms(start), "endMs": epoch_ms(end), "speed": speed, "config": {}}
    answer = http.post("/api/sim/sessions", json=body)
    answer.raise_for_status()
    session_id: str = answer.json()["id"]
    return session_id


def trade(http: httpx.Client, session_id: str, rule: SmaCross, qty: float) -> int:
    """Follow the session to its end, trading on every candle; return the orders sent."""
    path = f"/api/sim/sessions/{session_id}"
    long = False
    sent = 0
    mine: set[int] = set()  # the log's orderIds of our orders
    with connect_sse(http, "GET", f"{path}/stream", params={"fromSeq": 1},
                     timeout=httpx.Timeout(10.0, read=None)) as source:
        for message in source.iter_sse():
            if not message.data:
                continue  # a heartbeat comment
            event: dict[str, Any] = json.loads(message.data)
            kind, payload = event["type"], event["payload"]
            if kind in ("trade_opened", "trade_closed"):
                long = kind == "trade_opened"  # what the session says, not what we sent
            if kind == "order_submitted" and payload.get("clientOrderId", "").startswith("bot-"):
                mine.add(payload["orderId"])
            if kind == "order_rejected" and payload["orderId"] in mine:
                long = False  # our buy was refused (e.g. too little cash): still flat
            if kind in TERMINAL:
                return sent
            if kind != "candle":
                continue
            signal = rule.wants_long(float(payload["close"]))
            if signal is None or signal == long:
                continue
            # One id per (session, candle): a resend after a dropped answer is idempotent.
            order_id = f"bot-{event['seq']}"
            if signal:
                answer = http.post(f"{path}/orders", json={
                    "clientOrderId": order_id, "side": "buy", "type": "market", "qty": qty})
            else:
                answer = http.post(f"{path}/position/close")
            answer.raise_for_status()
            long = signal  # until the log says otherwise
            sent += 1
            action = f"buy {qty} as {order_id}" if signal else "close position"
            print(f"candle {event['seq']} close {payload['close']}: {action}", flush=True)
    return sent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--user", help="X-Dev-User (a server with LIVESIM_AUTH=dev)")
    who.add_argument("--token", help="an OIDC access token")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--session", help="trade this existing session")
    target.add_argument("--create", nargs=4, metavar=("SYMBOL", "TIMEFRAME", "START", "END"),
                        help="create a manual session over these stored candles")
    parser.add_argument("--speed", type=float, default=600.0, help="with --create")
    parser.add_argument("--fast", type=int, default=3)
    parser.add_argument("--slow", type=int, default=8)
    parser.add_argument("--qty", type=float, default=1.0)
    args = parser.parse_args(argv)
    headers = ({"X-Dev-User": args.user} if args.user else
               {"Authorization": f"Bearer {args.token}"} if args.token else {})
    with httpx.Client(base_url=args.url, headers=headers, timeout=10.0) as http:
        if args.session:
            session_id = args.session
        else:
            symbol, timeframe, start, end = args.create
            session_id = create_manual_session(http, symbol, timeframe, start, end, args.speed)
        print(f"session {session_id}", flush=True)
        sent = trade(http, session_id, SmaCross(args.fast, args.slow), args.qty)
    print(f"session over; {sent} orders sent", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
