"""The simulated broker: market orders, sizing, commission, slippage, stops and targets.

Rules (SPEC §5), as implemented:

* A strategy intent becomes at most two market orders: one that closes the open
  trade (if any, and if the intent turns against it) and one that opens the new
  trade.  A reversal is those two orders filled back to back at the same price.
* One trade at a time: a BUY while long or a SELL while short is a no-op (no
  pyramiding, no hedging).  Without ``allowShort`` a SELL only closes a long.
* ``fill: "open"`` (default) queues the orders and fills them at the next candle's
  open; ``fill: "close"`` fills them at once, at the signal candle's close.
* A signal on the last candle is never filled: its orders are submitted and then
  rejected with the reason ``end of data``, so the log still shows the decision.
* An entry is sized when it fills (as backtesting.py does): ``sizeFraction`` of the
  equity after any closing fill, divided by ``price × (1 + commission)``, floored to
  whole units (or to 1e-8 units with ``fractional``).  Size 0 is an
  ``order_rejected``.  The qty in an entry's ``order_submitted`` is the same rule
  applied at the signal candle's close: exact for ``fill: "close"``, an estimate for
  next-open fills; ``order_filled.qty`` is authoritative.
* Commission is ``qty × fill price × commission`` on every fill; slippage moves
  every fill price ``slippageBps`` against the trader (buys up, sells down).
* Stop-loss / take-profit levels are set from the entry fill price and checked
  against each later candle's range, including the candle whose open filled the
  entry.  A gap through either level fills at the open; when both are touched
  inside one candle the stop (the worse outcome) wins.  These exits are an
  ``order_submitted`` (reason ``stop loss`` / ``take profit``) filled at once,
  slippage and commission included.
* End of data: an open trade stays open, marked at the last close without exit
  commission; with ``closeAtEnd`` it is closed at the last close (commission
  charged) after the strategy's own orders and before that candle's ``equity``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from livesim.sim.candles import Candle
from livesim.sim.events import Event, OrderFilled, OrderRejected, OrderSubmitted
from livesim.sim.intents import Action, OrderIntent
from livesim.sim.portfolio import Portfolio
from livesim.sim.schema import param

LOTS_PER_UNIT = 100_000_000
"""With ``fractional: true`` sizes are floored to 1e-8 units (crypto exchanges' lot step)."""

END_OF_DATA = "end of data: no later candle to fill at"


@dataclass(frozen=True, slots=True)
class BrokerParams:
    """Session-wide account and execution settings, shared by every profile."""

    initial_cash: float = param(10_000.0, "Cash the account starts with.",
                                minimum=0, maximum=1e15, min_exclusive=True)
    commission: float = param(0.0, "Fee per fill as a fraction of traded value "
                              "(0.001 = 0.1%), charged on entry and on exit.",
                              minimum=0, maximum=0.1, max_exclusive=True)
    slippage_bps: float = param(0.0, "Basis points every fill price moves against the "
                                "trader.", minimum=0, maximum=1_000)
    size_fraction: float = param(1.0, "Fraction of equity committed to each entry "
                                 "(1 = all in).", minimum=0, maximum=1, min_exclusive=True)
    fractional: bool = param(False, "Allow fractional quantities (floored to 1e-8) instead "
                             "of whole units.")
    allow_short: bool = param(False, "Open shorts on bearish signals; otherwise they only "
                              "close longs.")
    fill: str = param("open", "Fill market orders at the next candle's open or at the "
                      "signal candle's close.", choices=("open", "close"))
    stop_loss_pct: float | None = param(None, "Exit when price moves this many percent "
                                        "against the entry (null = no stop).", minimum=0,
                                        maximum=100, min_exclusive=True, max_exclusive=True)
    take_profit_pct: float | None = param(None, "Exit when price moves this many percent in "
                                          "favour of the entry (null = no target).",
                                          minimum=0, maximum=10_000, min_exclusive=True)
    close_at_end: bool = param(False, "Close an open trade at the last close (with exit "
                               "commission) instead of leaving it open, marked.")

    def errors(self) -> list[dict[str, str]]:
        """Session settings have no cross-field rules."""
        return []


@dataclass(slots=True)
class Order:
    """A market order; ``closes`` orders close the open trade, others open one."""

    order_id: int
    side: str  # buy | sell
    closes: bool
    qty: float
    reason: str


class Broker:
    """Turns intents into orders and fills them against candles."""

    def __init__(self, params: BrokerParams, portfolio: Portfolio) -> None:
        self.params = params
        self.portfolio = portfolio
        self.pending: list[Order] = []
        self._next_order_id = 1
        self._commission = params.commission
        self._slip = params.slippage_bps / 10_000.0
        self._fill_at_close = params.fill == "close"
        self._stop = params.stop_loss_pct
        self._target = params.take_profit_pct

    # -- sizing and prices -------------------------------------------------------------

    def fill_price(self, price: float, side: str) -> float:
        """``price`` moved against the trader by the slippage."""
        if not self._slip:
            return price
        return price * (1.0 + self._slip) if side == "buy" else price * (1.0 - self._slip)

    def size(self, equity: float, price: float) -> float:
        """Units an entry at ``price`` gets from ``equity`` (0 when it cannot afford one)."""
        p = self.params
        if equity <= 0.0:
            return 0
        budget = equity * p.size_fraction
        unit_cost = price * (1.0 + self._commission)
        if p.fractional:
            scale = LOTS_PER_UNIT
            lots = math.floor(budget / unit_cost * scale)
        else:
            # Floor division, as backtesting.py sizes, so both pick the same whole units.
            scale = 1
            lots = int(budget // unit_cost)
        # Float rounding may leave the cost a hair above the budget; never overspend.
        while lots > 0 and self._cost(lots / scale, price) > budget:
            lots -= 1
        if lots <= 0:
            return 0
        # lots / 1e8 is the float closest to that decimal (3.33333333, not ...300000003).
        return lots / scale if p.fractional else lots

    def _cost(self, qty: float, price: float) -> float:
        return qty * price + qty * price * self._commission

    # -- per-candle steps ---------------------------------------------------------------

    def fill_pending(self, candle: Candle, out: list[Event]) -> None:
        """Fill the orders queued on the previous candle at this candle's open."""
        orders, self.pending = self.pending, []
        for order in orders:
            self._execute(order, candle.open, candle.ts, out)

    def check_exits(self, candle: Candle, out: list[Event]) -> None:
        """Close the open trade if this candle reaches its stop or its target."""
        trade = self.portfolio.trade
        if trade is None:
            return
        stop, target = trade.stop_price, trade.target_price
        if stop is None and target is None:
            return
        o = candle.open
        price: float
        if trade.direction == 1:
            if stop is not None and o <= stop:
                price, reason = o, "stop loss: gapped through the stop, filled at the open"
            elif target is not None and o >= target:
                price, reason = o, "take profit: gapped through the target, filled at the open"
            elif stop is not None and candle.low <= stop:
                price, reason = stop, "stop loss"
            elif target is not None and candle.high >= target:
                price, reason = target, "take profit"
            else:
                return
        else:
            if stop is not None and o >= stop:
                price, reason = o, "stop loss: gapped through the stop, filled at the open"
            elif target is not None and o <= target:
                price, reason = o, "take profit: gapped through the target, filled at the open"
            elif stop is not None and candle.high >= stop:
                price, reason = stop, "stop loss"
            elif target is not None and candle.low <= target:
                price, reason = target, "take profit"
            else:
                return
        side = "sell" if trade.direction == 1 else "buy"
        order = self._new_order(side, True, trade.qty, reason, candle.ts, out)
        self._execute(order, price, candle.ts, out)

    def submit(self, intents: list[OrderIntent], candle: Candle, is_last: bool,
               out: list[Event]) -> None:
        """Turn the strategy's intents into orders; fill, queue or reject them."""
        trade = self.portfolio.trade
        # The position the orders placed so far will leave (queued orders included).
        direction = 0 if trade is None else trade.direction
        qty: float = 0 if trade is None else trade.qty
        for intent in intents:
            action = intent.action
            if action is Action.BUY:
                close, opening = direction == -1, 1 if direction != 1 else 0
            elif action is Action.SELL:
                close = direction == 1
                opening = -1 if self.params.allow_short and direction != -1 else 0
            elif action is Action.EXIT_LONG:
                close, opening = direction == 1, 0
            else:
                close, opening = direction == -1, 0
            if close:
                side = "sell" if direction == 1 else "buy"
                self._place(self._new_order(side, True, qty, intent.reason, candle.ts, out),
                            candle, is_last, out)
                direction, qty = 0, 0
            if opening:
                side = "buy" if opening == 1 else "sell"
                qty = self._estimate_entry(candle, side)
                self._place(self._new_order(side, False, qty, intent.reason, candle.ts, out),
                            candle, is_last, out)
                direction = opening

    def close_at_end(self, candle: Candle, out: list[Event]) -> None:
        """``closeAtEnd``: close the open trade at the last candle's close."""
        trade = self.portfolio.trade
        if trade is None:
            return
        side = "sell" if trade.direction == 1 else "buy"
        order = self._new_order(side, True, trade.qty, "close at end of data", candle.ts, out)
        self._execute(order, candle.close, candle.ts, out)

    # -- internals ----------------------------------------------------------------------

    def _new_order(self, side: str, closes: bool, qty: float, reason: str, ts: int,
                   out: list[Event]) -> Order:
        order_id = self._next_order_id
        self._next_order_id = order_id + 1
        out.append(OrderSubmitted(ts, order_id, side, qty, reason))
        return Order(order_id, side, closes, qty, reason)

    def _place(self, order: Order, candle: Candle, is_last: bool, out: list[Event]) -> None:
        if is_last:
            out.append(OrderRejected(candle.ts, order.order_id, END_OF_DATA))
        elif self._fill_at_close:
            self._execute(order, candle.close, candle.ts, out)
        else:
            self.pending.append(order)

    def _estimate_entry(self, candle: Candle, side: str) -> float:
        # The entry's size as it would be if filled at this close; for fill="close" the
        # closing order has already filled, so this is exactly the fill's size.
        portfolio = self.portfolio
        equity = portfolio.cash
        trade = portfolio.trade
        if trade is not None:
            exit_price = self.fill_price(candle.close, "sell" if trade.direction == 1 else "buy")
            equity += (trade.direction * trade.qty * exit_price
                       - trade.qty * exit_price * self._commission)
        return self.size(equity, self.fill_price(candle.close, side))

    def _execute(self, order: Order, price: float, ts: int, out: list[Event]) -> None:
        portfolio = self.portfolio
        trade = portfolio.trade
        fill = self.fill_price(price, order.side)
        if order.closes:
            wanted = 1 if order.side == "sell" else -1
            if trade is None or trade.direction != wanted:
                out.append(OrderRejected(ts, order.order_id, "no matching open position to "
                                         "close"))
                return
            qty = trade.qty
            commission = qty * fill * self._commission
            out.append(OrderFilled(ts, order.order_id, order.side, qty, fill, commission))
            out.append(portfolio.close_trade(ts, fill, commission))
            return
        if trade is not None:
            out.append(OrderRejected(ts, order.order_id, "a position is already open"))
            return
        # Flat, so equity is the cash.
        qty = self.size(portfolio.cash, fill)
        if qty <= 0:
            out.append(OrderRejected(ts, order.order_id, self._zero_size_reason(fill)))
            return
        commission = qty * fill * self._commission
        direction = 1 if order.side == "buy" else -1
        stop = None if self._stop is None else fill * (1.0 - direction * self._stop / 100.0)
        target = (None if self._target is None
                  else fill * (1.0 + direction * self._target / 100.0))
        out.append(OrderFilled(ts, order.order_id, order.side, qty, fill, commission))
        out.append(portfolio.open_trade(ts, direction, qty, fill, commission, stop, target))

    def _zero_size_reason(self, price: float) -> str:
        p = self.params
        equity = self.portfolio.cash
        if equity <= 0.0:
            return f"size is 0: equity {equity:.2f} is not positive"
        unit = f"{1 / LOTS_PER_UNIT:g} units" if p.fractional else "one unit"
        return (f"size is 0: {p.size_fraction:g} of equity {equity:.2f} cannot buy {unit} at "
                f"{price:g} plus {p.commission:g} commission")
