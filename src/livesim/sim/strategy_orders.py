"""How a strategy's intents become orders (the rules are in :mod:`livesim.sim.broker`).

A close of the opposite trade is a market order; the opening order is market, limit
or stop as the intent says.  Every intent first cancels the strategy's unfilled
limit/stop orders.  Orders are booked with the broker, which fills them.
"""

from __future__ import annotations

from livesim.sim.broker import ACCOUNT_LIQUIDATED, END_OF_DATA, Broker
from livesim.sim.candles import Candle
from livesim.sim.events import Event, OrderRejected
from livesim.sim.intents import Action, OrderIntent
from livesim.sim.orders import CLOSE, OPEN, Order, order_problems


class StrategyOrders:
    """The strategy's desk at the broker."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def submit(self, intents: list[OrderIntent], candle: Candle, index: int, is_last: bool,
               out: list[Event]) -> None:
        """Turn the strategy's intents into orders; fill, queue, book or reject them."""
        broker = self.broker
        trade = broker.portfolio.trade
        # The position the orders placed so far will leave (queued orders included).
        direction = 0 if trade is None else trade.direction
        qty: float = 0 if trade is None else trade.qty
        for intent in intents:
            if broker.working:
                broker.cancel_where("strategy", "superseded by a new strategy signal",
                                    candle.ts, out)
            action = intent.action
            if action is Action.BUY:
                close, opening = direction == -1, 1 if direction != 1 else 0
            elif action is Action.SELL:
                close = direction == 1
                opening = -1 if broker.params.allow_short and direction != -1 else 0
            elif action is Action.EXIT_LONG:
                close, opening = direction == 1, 0
            else:
                close, opening = direction == -1, 0
            if close:
                side = "sell" if direction == 1 else "buy"
                broker.place(broker.new_order(side, CLOSE, qty, intent.reason, candle.ts,
                                              out), candle, is_last, out)
                direction, qty = 0, 0
            if opening:
                self._submit_entry(intent, "buy" if opening == 1 else "sell", candle, index,
                                   is_last, out)
                direction = opening

    def _submit_entry(self, intent: OrderIntent, side: str, candle: Candle, index: int,
                      is_last: bool, out: list[Event]) -> None:
        broker = self.broker
        kind = intent.order_type
        ref = intent.limit_price if kind == "limit" else intent.stop_price
        problems = order_problems(
            side=side, order_type=kind, qty=None, size_fraction=None,
            limit_price=intent.limit_price, stop_price=intent.stop_price,
            stop_loss=intent.stop_loss, take_profit=intent.take_profit,
            expires_after_candles=intent.expires_after_candles, sized=False)
        order = broker.book(Order(
            0, side, OPEN, intent.reason, "strategy", kind, limit_price=intent.limit_price,
            stop_price=intent.stop_price, stop_loss=intent.stop_loss,
            take_profit=intent.take_profit, expires_after=intent.expires_after_candles),
            candle.ts, out, 0 if problems else self._estimate_entry(candle, side, ref))
        if problems:
            out.append(OrderRejected(candle.ts, order.order_id, "invalid order: " + "; ".join(
                f"{p['field']} {p['message']}" for p in problems)))
        elif kind == "market":
            broker.place(order, candle, is_last, out)
        elif is_last:
            out.append(OrderRejected(candle.ts, order.order_id, END_OF_DATA))
        elif broker.liquidated:
            out.append(OrderRejected(candle.ts, order.order_id, ACCOUNT_LIQUIDATED))
        else:
            # Booked at this close, it works from the next candle on.
            if intent.expires_after_candles is not None:
                order.expires_at = index + intent.expires_after_candles
            broker.working.append(order)

    def _estimate_entry(self, candle: Candle, side: str, ref: float | None) -> float:
        broker = self.broker
        # The entry's size as it would be if filled at this close (or at its limit / stop
        # price); for fill="close" market entries the closing order has already filled,
        # so this is exactly the fill's size.
        price = candle.close if ref is None else ref
        portfolio = broker.portfolio
        equity = portfolio.cash
        trade = portfolio.trade
        if trade is not None:
            exit_price = broker.fill_price(price, "sell" if trade.direction == 1 else "buy")
            equity += (trade.direction * trade.qty * exit_price
                       - trade.qty * exit_price * broker.params.commission)
        return broker.size(equity, broker.fill_price(price, side))
