"""The simulated broker: orders, fills, sizing, commission, slippage, stops, margin.

Rules (SPEC §5 and §9), as implemented:

* **One trade at a time.**  The session has one account and one net position, which
  the strategy and outside traders share: a strategy's SELL closes a long a person
  opened, and a person's order can close the strategy's trade.  Nothing pyramids and
  nothing hedges: an order in the direction of the open trade is rejected.
* **Strategy intents** become at most two orders: a market order closing the open
  trade (if the intent turns against it) and an opening order (market, limit or stop,
  :mod:`livesim.sim.intents`) that fills only when flat.  A reversal is the two filled
  back to back at one price.  Without ``allowShort`` a SELL only closes a long.
  Every intent first cancels the strategy's unfilled limit/stop orders.
* **Outside orders** (:mod:`livesim.sim.inputs`) *net* against the position: an order
  against the open trade sized in ``qty`` closes that many units (a partial close
  when fewer than the trade's) and opens the remainder the other way (a reversal at
  one price, shorts only with ``allowShort``); one sized by ``sizeFraction`` closes the
  trade whole and opens a new one of that fraction of the equity left.  The fill is
  one ``order_filled`` for the order's whole qty, then ``trade_closed`` and/or
  ``trade_opened``.  An opening part that costs more than the equity (margin 1, no
  leverage) rejects the whole order, before anything fills.  Users cancel only their
  own orders; ``close_position`` closes the trade whoever opened it.
* **Market orders**: a strategy's fill at the next candle's open (``fill: "open"``)
  or at its signal candle's close (``fill: "close"``).  An outside market order is
  recorded at the boundary before candle k and fills at k's open whatever ``fill``
  says: the close of k-1 is already in the log, so the open of k is the first price it
  can have.  A strategy signal on the last candle is never filled: it is submitted
  and rejected with ``end of data``.
* **Limit and stop orders** touch as in backtesting.py (:mod:`livesim.sim.orders`):
  a buy limit fills when the low reaches it, at the limit or at a lower open; a
  buy stop triggers when the high reaches it and fills at the stop or a higher open
  (sells mirror).  They are good till cancelled, or ``order_expired`` after
  ``expiresAfterCandles`` candles in the book.  A strategy's work from the next
  candle on; an outside one from the candle at which it takes effect.
* **Sizing**: an entry is sized when it fills (as backtesting.py does): a fraction
  of the equity (``sizeFraction``) divided by ``price × (1 + commission)``, floored to
  whole units (or 1e-8 with ``fractional``).  Size 0 is an ``order_rejected``.  The qty
  in ``order_submitted`` is that rule at the signal close (or at the order's limit /
  stop price); ``order_filled.qty`` is authoritative.
* Commission is ``qty × fill price × commission`` on every fill; slippage moves every
  fill price ``slippageBps`` against the trader (buys up, sells down).
* **Stop-loss / take-profit** are absolute levels given with an order, or else the
  session's ``stopLossPct`` / ``takeProfitPct`` from the entry fill price.  They are
  checked against each later candle's range and that of the candle whose open filled
  the entry.  A gap through a level fills at the open; when both are touched in one
  candle the stop (the worse outcome) wins.  A trade opened by a limit or stop fill
  inside a candle is checked from the next candle (the candle cannot say whether its
  high/low came before or after the fill), except a stop entry whose target is
  inside the same candle while its stop-loss is not: that target fills at once (the
  price had to pass the entry on its way to the target).  A level on the wrong side
  of the fill price rejects the order.
* **Margin**: when equity at a candle's close is <= 0, every open trade is closed at
  that close (commission charged), every open order is cancelled, ``account_liquidated``
  is written and every later order is rejected (``account liquidated``).
* **End of data**: an open trade stays open, marked at the last close without exit
  commission; with ``closeAtEnd`` it is closed at the last close (commission charged)
  after the strategy's own orders and before that candle's ``equity``.

Precedence inside one candle (the engine calls these in this order):

1. the strategy's market orders queued at the previous close fill at the open;
2. outside inputs, in recorded order: market orders and ``close_position`` fill at
   the open, limit/stop orders join the book, cancels withdraw;
3. the open trade's stop-loss, then take-profit;
4. limit and stop orders in the order they were submitted; then expiries;
5. the strategy's new intents (``fill: "close"`` market orders fill at the close);
6. the end-of-data close; 7. liquidation at the close.

Deliberate differences from backtesting.py 0.6.6:

* Market orders fill at the open before the open trade's stop-loss / take-profit
  are looked at (backtesting.py puts SL orders first in its queue, so a stop touched
  later in the candle can pre-empt an exit made at the open).
* A stop order triggered with ``fill: "close"`` fills at the stop or the gapped open,
  as with ``fill: "open"`` (backtesting.py's ``trade_on_close`` prices it from the
  previous close).
* Liquidation keeps the true (possibly negative) balance and the replay goes on,
  rejecting orders (backtesting.py sets equity to 0 and ends the run).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from livesim.sim.candles import Candle
from livesim.sim.events import (
    AccountLiquidated,
    Event,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
)
from livesim.sim.orders import (
    CLOSE,
    NET,
    OPEN,
    Order,
    bracket_problem_at_fill,
    limit_fill_price,
    stop_fill_price,
)
from livesim.sim.portfolio import Portfolio
from livesim.sim.schema import param

LOTS_PER_UNIT = 100_000_000
"""With ``fractional: true`` sizes are floored to 1e-8 units (crypto exchanges' lot step)."""

END_OF_DATA = "end of data: no later candle to fill at"
ACCOUNT_LIQUIDATED = "account liquidated: no new orders are accepted"
NO_POSITION = "no matching open position to close"
_DIRECTION_NAMES = {1: "long", -1: "short"}


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


class Broker:
    """Turns intents and outside orders into orders and fills them against candles."""

    def __init__(self, params: BrokerParams, portfolio: Portfolio) -> None:
        self.params = params
        self.portfolio = portfolio
        self.pending: list[Order] = []  # strategy market orders for the next open
        self.working: list[Order] = []  # limit and stop orders, in submission order
        self.liquidated = False
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

    def size(self, equity: float, price: float, fraction: float | None = None) -> float:
        """Units an entry at ``price`` gets from ``equity`` (0 when it cannot afford one)."""
        p = self.params
        if equity <= 0.0:
            return 0
        budget = equity * (p.size_fraction if fraction is None else fraction)
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

    def open_orders(self) -> list[dict[str, object]]:
        """Every order in the book (queued market orders, then limit/stop orders)."""
        return [order.describe() for order in (*self.pending, *self.working)]

    # -- per-candle steps ---------------------------------------------------------------

    def fill_pending(self, candle: Candle, out: list[Event]) -> None:
        """Fill the strategy's orders queued on the previous candle at this candle's open."""
        orders, self.pending = self.pending, []
        for order in orders:
            self.fill(order, candle.open, candle.ts, out)

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
        self._exit(price, reason, candle.ts, out)

    def process_working(self, candle: Candle, index: int, out: list[Event]) -> None:
        """Fill the limit/stop orders this candle touches, then expire the overdue ones."""
        ts = candle.ts
        for order in tuple(self.working):
            is_buy = order.side == "buy"
            if order.order_type == "limit":
                assert order.limit_price is not None
                price = limit_fill_price(is_buy, order.limit_price, candle)
            else:
                assert order.stop_price is not None
                price = stop_fill_price(is_buy, order.stop_price, candle)
            if price is None:
                continue
            self.working.remove(order)
            if self.fill(order, price, ts, out) and order.order_type == "stop":
                self._stop_entry_target(candle, out)
        if any(order.expires_at is not None and order.expires_at <= index
               for order in self.working):
            keep = []
            for order in self.working:
                if order.expires_at is not None and order.expires_at <= index:
                    assert order.expires_after is not None
                    out.append(OrderExpired(ts, order.order_id, order.expires_after,
                                            order.client_order_id))
                else:
                    keep.append(order)
            self.working = keep

    def close_at_end(self, candle: Candle, out: list[Event]) -> None:
        """``closeAtEnd``: close the open trade at the last candle's close."""
        self._exit(candle.close, "close at end of data", candle.ts, out)

    def liquidate(self, candle: Candle, out: list[Event]) -> None:
        """Equity <= 0 at this close: close everything there, cancel the book, stop trading."""
        self.liquidated = True
        trade = self.portfolio.trade
        trade_ids: tuple[int, ...] = ()
        if trade is not None:
            trade_ids = (trade.trade_id,)
            self._exit(candle.close, "liquidation: equity <= 0 at the close", candle.ts, out)
        orders, self.pending, self.working = (*self.pending, *self.working), [], []
        for order in orders:
            out.append(OrderCancelled(candle.ts, order.order_id, "account liquidated",
                                      order.client_order_id))
        portfolio = self.portfolio
        out.append(AccountLiquidated(candle.ts, portfolio.equity_at(candle.close),
                                     portfolio.cash, trade_ids))

    # -- booking and execution (also used by the strategy and outside order desks) --------

    def new_order(self, side: str, role: str, qty: float | None, reason: str, ts: int,
                  out: list[Event], *, source: str = "strategy") -> Order:
        """Book a market order (see :meth:`book`)."""
        return self.book(Order(0, side, role, reason, source, "market", qty), ts, out)

    def book(self, order: Order, ts: int, out: list[Event],
              event_qty: float | None = None) -> Order:
        """Give ``order`` the next id and write its ``order_submitted``."""
        order.order_id = order_id = self._next_order_id
        self._next_order_id = order_id + 1
        shown = order.qty if event_qty is None else event_qty
        out.append(OrderSubmitted(ts, order_id, order.side, 0 if shown is None else shown,
                                  order.reason, order.source, order.order_type,
                                  order.options()))
        return order

    def _exit(self, price: float, reason: str, ts: int, out: list[Event]) -> None:
        trade = self.portfolio.trade
        if trade is None:
            return
        side = "sell" if trade.direction == 1 else "buy"
        order = self.new_order(side, CLOSE, trade.qty, reason, ts, out, source="broker")
        self.fill(order, price, ts, out)

    def place(self, order: Order, candle: Candle, is_last: bool, out: list[Event]) -> None:
        """A strategy's market order: rejected on the last candle, else filled or queued."""
        if is_last:
            out.append(OrderRejected(candle.ts, order.order_id, END_OF_DATA))
        elif self._fill_at_close:
            self.fill(order, candle.close, candle.ts, out)
        elif self.liquidated:
            out.append(OrderRejected(candle.ts, order.order_id, ACCOUNT_LIQUIDATED))
        else:
            self.pending.append(order)

    def issued(self, order_id: int) -> bool:
        """True when ``order_id`` was given to an order of this session."""
        return 1 <= order_id < self._next_order_id

    def cancel_where(self, source: str, reason: str, ts: int, out: list[Event]) -> None:
        """Cancel every working order from ``source`` (``strategy`` or ``user``)."""
        keep = []
        for order in self.working:
            if order.source == source:
                out.append(OrderCancelled(ts, order.order_id, reason, order.client_order_id))
            else:
                keep.append(order)
        self.working = keep

    def _stop_entry_target(self, candle: Candle, out: list[Event]) -> None:
        trade = self.portfolio.trade
        if trade is None or trade.target_price is None:
            return
        stop, target = trade.stop_price, trade.target_price
        if trade.direction == 1 and candle.high >= target and (stop is None or candle.low > stop):
            self._exit(max(candle.open, target), "take profit", candle.ts, out)
        elif trade.direction == -1 and candle.low <= target and (stop is None
                                                                 or candle.high < stop):
            self._exit(min(candle.open, target), "take profit", candle.ts, out)

    def fill(self, order: Order, price: float, ts: int, out: list[Event]) -> bool:
        """Execute ``order`` at ``price`` (before slippage); True when it opened a trade."""
        portfolio = self.portfolio
        trade = portfolio.trade
        fill = self.fill_price(price, order.side)
        direction = 1 if order.side == "buy" else -1
        if order.role == CLOSE:
            if trade is None or trade.direction == direction:
                out.append(OrderRejected(ts, order.order_id, NO_POSITION))
                return False
            qty = trade.qty
            commission = qty * fill * self._commission
            out.append(OrderFilled(ts, order.order_id, order.side, qty, fill, commission))
            out.append(portfolio.close_trade(ts, fill, commission))
            return False
        if self.liquidated:
            out.append(OrderRejected(ts, order.order_id, ACCOUNT_LIQUIDATED))
            return False
        if trade is not None and (order.role == OPEN or trade.direction == direction):
            out.append(OrderRejected(ts, order.order_id, "a position is already open" if
                                     order.role == OPEN else
                                     f"a {_DIRECTION_NAMES[direction]} position is already "
                                     "open: one trade at a time (no pyramiding)"))
            return False
        close_qty: float = 0
        equity = portfolio.cash
        if trade is not None:
            close_qty = trade.qty if order.qty is None else min(order.qty, trade.qty)
            if close_qty == trade.qty:
                equity += (trade.direction * trade.qty * fill
                           - trade.qty * fill * self._commission)
        open_qty: float
        if trade is not None and close_qty < trade.qty:
            open_qty = 0  # a partial close only
        elif direction == -1 and not self.params.allow_short:
            open_qty = 0
            if trade is None:
                out.append(OrderRejected(ts, order.order_id, "shorts are not allowed "
                                         "(allowShort is off): a sell only closes a long"))
                return False
        elif order.qty is not None:
            open_qty = order.qty - close_qty
        else:
            open_qty = self.size(equity, fill, order.size_fraction)
            if open_qty <= 0 and trade is None:
                out.append(OrderRejected(ts, order.order_id, self._zero_size_reason(
                    fill, order.size_fraction)))
                return False
        if open_qty > 0:
            problem = self._open_problem(order, direction, open_qty, fill, equity)
            if problem is not None:
                out.append(OrderRejected(ts, order.order_id, problem))
                return False
        total = close_qty + open_qty
        out.append(OrderFilled(ts, order.order_id, order.side, total, fill,
                               total * fill * self._commission))
        if trade is not None:
            commission = close_qty * fill * self._commission
            out.append(portfolio.close_trade(ts, fill, commission) if close_qty == trade.qty
                       else portfolio.reduce_trade(ts, close_qty, fill, commission))
        if open_qty > 0:
            self._open(order, direction, open_qty, fill, ts, out)
            return True
        return False

    def _open_problem(self, order: Order, direction: int, qty: float, fill: float,
                      equity: float) -> str | None:
        problem = bracket_problem_at_fill(direction, fill, order.stop_loss, order.take_profit)
        if problem is not None:
            return problem
        if order.role == NET and order.qty is not None and self._cost(qty, fill) > equity:
            return (f"insufficient equity: {qty:g} units at {fill:g} cost "
                    f"{self._cost(qty, fill):.2f} with commission; equity is {equity:.2f}")
        return None

    def _open(self, order: Order, direction: int, qty: float, fill: float, ts: int,
              out: list[Event]) -> None:
        stop, target = order.stop_loss, order.take_profit
        if stop is None and self._stop is not None:
            stop = fill * (1.0 - direction * self._stop / 100.0)
        if target is None and self._target is not None:
            target = fill * (1.0 + direction * self._target / 100.0)
        commission = qty * fill * self._commission
        out.append(self.portfolio.open_trade(ts, direction, qty, fill, commission, stop, target))

    def _zero_size_reason(self, price: float, fraction: float | None = None) -> str:
        p = self.params
        equity = self.portfolio.cash
        if equity <= 0.0:
            return f"size is 0: equity {equity:.2f} is not positive"
        unit = f"{1 / LOTS_PER_UNIT:g} units" if p.fractional else "one unit"
        share = p.size_fraction if fraction is None else fraction
        return (f"size is 0: {share:g} of equity {equity:.2f} cannot buy {unit} at "
                f"{price:g} plus {p.commission:g} commission")
