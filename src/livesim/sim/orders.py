"""Orders in the book, the touch rules of limit and stop orders, and order sanity rules.

The touch rules are backtesting.py 0.6.6's (``_Broker._process_orders``):

* a **buy limit** fills when the candle's low reaches the limit, at the limit, or at
  the open when the candle opens below it (a gap through the limit); a **sell
  limit** fills when the high reaches it, at the limit or at a higher open;
* a **buy stop** triggers when the high reaches the stop and becomes a market order
  filled at once, at the stop, or at the open when the candle opens above it; a
  **sell stop** triggers when the low reaches it, at the stop or a lower open.

:func:`order_problems` is the one place the shape of an order is checked, for
outside orders (:mod:`livesim.sim.inputs`, before anything is recorded) and for
strategy intents (at submission, an ``order_rejected`` on failure) alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from livesim.sim.candles import Candle

SIDES = ("buy", "sell")
ORDER_TYPES = ("market", "limit", "stop")
MAX_QTY = 1e15
"""Largest ``qty`` an order may ask for (far beyond any account; keeps sums finite)."""
MAX_PRICE = 1e15
MAX_EXPIRY_CANDLES = 1_000_000

Problem = dict[str, str]

# What an order does to the position when it fills (see the broker's module doc).
CLOSE = "close"  # closes the open trade whole; nothing else
OPEN = "open"  # a strategy entry: opens a trade, only when flat
NET = "net"  # an outside order: nets against the position (reduce, close, reverse, open)


@dataclass(slots=True)
class Order:
    """An order in the book until it fills, is rejected, cancelled or expires."""

    order_id: int
    side: str  # buy | sell
    role: str  # CLOSE | OPEN | NET
    reason: str
    source: str = "strategy"  # strategy | user | broker
    order_type: str = "market"
    qty: float | None = None  # units; None: sized at the fill
    size_fraction: float | None = None  # fraction of equity when qty is None
    client_order_id: str | None = None
    limit_price: float | None = None
    stop_price: float | None = None
    stop_loss: float | None = None
    take_profit: float | None = None
    expires_after: int | None = None
    expires_at: int | None = None  # index of the last candle it may fill on

    def options(self) -> dict[str, Any]:
        """The optional settings that are set, under their camelCase keys."""
        out: dict[str, Any] = {}
        for key, value in (("clientOrderId", self.client_order_id),
                           ("sizeFraction", self.size_fraction),
                           ("limitPrice", self.limit_price), ("stopPrice", self.stop_price),
                           ("stopLoss", self.stop_loss), ("takeProfit", self.take_profit),
                           ("expiresAfterCandles", self.expires_after)):
            # A rejected order may carry a NaN; the log never does (canonical JSON).
            if value is not None and not (isinstance(value, float) and not math.isfinite(value)):
                out[key] = value
        return out

    def describe(self) -> dict[str, Any]:
        """The order as listed among a session's open orders."""
        out = {"orderId": self.order_id, "side": self.side, "type": self.order_type,
               "source": self.source, "qty": self.qty, "reason": self.reason}
        out.update(self.options())
        if self.expires_at is not None:
            out["expiresAtCandle"] = self.expires_at
        return out


def limit_fill_price(is_buy: bool, limit: float, candle: Candle) -> float | None:
    """The fill price of a limit order on ``candle``, or None when it is not touched."""
    if is_buy:
        return None if candle.low > limit else min(candle.open, limit)
    return None if candle.high < limit else max(candle.open, limit)


def stop_fill_price(is_buy: bool, stop: float, candle: Candle) -> float | None:
    """The fill price of a stop order triggered on ``candle``, or None when not touched."""
    if is_buy:
        return None if candle.high < stop else max(candle.open, stop)
    return None if candle.low > stop else min(candle.open, stop)


def _price_problem(name: str, value: float | None) -> Problem | None:
    if value is None:
        return None
    if not math.isfinite(value) or not 0.0 < value <= MAX_PRICE:
        return {"field": name, "message": f"must be a finite price > 0 and <= {MAX_PRICE:g}"}
    return None


def order_problems(*, side: str, order_type: str, qty: float | None,
                   size_fraction: float | None, limit_price: float | None,
                   stop_price: float | None, stop_loss: float | None,
                   take_profit: float | None, expires_after_candles: int | None,
                   sized: bool) -> list[Problem]:
    """Every rule an order breaks, as ``[{"field", "message"}]`` (empty when sound).

    ``sized`` says the order must carry exactly one of ``qty`` / ``sizeFraction``
    (outside orders); strategy intents carry neither (the session's ``sizeFraction``).
    Stop-loss and take-profit must lie on the losing and winning side of the order's
    own price (the limit or stop price); a market order's price is not known before
    it fills, so the broker checks them against the fill.
    """
    problems: list[Problem] = []
    if side not in SIDES:
        problems.append({"field": "side", "message": "must be one of 'buy', 'sell'"})
    if order_type not in ORDER_TYPES:
        problems.append({"field": "type",
                         "message": "must be one of 'market', 'limit', 'stop'"})
    if sized and (qty is None) == (size_fraction is None):
        problems.append({"field": "qty", "message": "give exactly one of qty and sizeFraction"})
    if qty is not None and (not math.isfinite(qty) or not 0.0 < qty <= MAX_QTY):
        problems.append({"field": "qty", "message": f"must be a finite number > 0 and <= "
                                                    f"{MAX_QTY:g}"})
    if size_fraction is not None and (not math.isfinite(size_fraction)
                                      or not 0.0 < size_fraction <= 1.0):
        problems.append({"field": "sizeFraction", "message": "must be > 0 and <= 1"})
    for name, value in (("limitPrice", limit_price), ("stopPrice", stop_price),
                        ("stopLoss", stop_loss), ("takeProfit", take_profit)):
        problem = _price_problem(name, value)
        if problem is not None:
            problems.append(problem)
    if order_type == "limit" and limit_price is None:
        problems.append({"field": "limitPrice", "message": "a limit order needs limitPrice"})
    if order_type != "limit" and limit_price is not None:
        problems.append({"field": "limitPrice", "message": "only limit orders take limitPrice"})
    if order_type == "stop" and stop_price is None:
        problems.append({"field": "stopPrice", "message": "a stop order needs stopPrice"})
    if order_type != "stop" and stop_price is not None:
        problems.append({"field": "stopPrice", "message": "only stop orders take stopPrice"})
    if expires_after_candles is not None:
        if order_type == "market":
            problems.append({"field": "expiresAfterCandles",
                             "message": "only limit and stop orders can expire"})
        elif not 1 <= expires_after_candles <= MAX_EXPIRY_CANDLES:
            problems.append({"field": "expiresAfterCandles",
                             "message": f"must be >= 1 and <= {MAX_EXPIRY_CANDLES}"})
    if problems:
        return problems
    return _bracket_problems(side == "buy", limit_price or stop_price, stop_loss, take_profit)


def _bracket_problems(is_buy: bool, ref: float | None, stop_loss: float | None,
                      take_profit: float | None) -> list[Problem]:
    problems: list[Problem] = []
    below, above = ("below", "above") if is_buy else ("above", "below")
    if stop_loss is not None and take_profit is not None and (
            stop_loss >= take_profit if is_buy else stop_loss <= take_profit):
        problems.append({"field": "stopLoss",
                         "message": f"must be {below} takeProfit for a "
                                    f"{'buy' if is_buy else 'sell'}"})
    if ref is not None:
        if stop_loss is not None and (stop_loss >= ref if is_buy else stop_loss <= ref):
            problems.append({"field": "stopLoss",
                             "message": f"must be {below} the order's price {ref:g}"})
        if take_profit is not None and (take_profit <= ref if is_buy else take_profit >= ref):
            problems.append({"field": "takeProfit",
                             "message": f"must be {above} the order's price {ref:g}"})
    return problems


def bracket_problem_at_fill(direction: int, fill: float, stop_loss: float | None,
                            take_profit: float | None) -> str | None:
    """Why a trade opened at ``fill`` cannot carry these levels, or None when it can."""
    if stop_loss is not None and (stop_loss >= fill if direction == 1 else stop_loss <= fill):
        return (f"stopLoss {stop_loss:g} is not {'below' if direction == 1 else 'above'} "
                f"the fill price {fill:g}")
    if take_profit is not None and (take_profit <= fill if direction == 1
                                    else take_profit >= fill):
        return (f"takeProfit {take_profit:g} is not {'above' if direction == 1 else 'below'} "
                f"the fill price {fill:g}")
    return None
