"""How outside inputs become orders (the rules are in :mod:`livesim.sim.broker`).

Inputs take effect at the candle they were recorded for, in recorded order, after
the strategy's queued orders have filled at its open: market orders and
``close_position`` fill at that open, limit/stop orders join the book, cancels
withdraw one of the user's own working orders.  Outside orders net against the one
position (the broker's ``NET`` role); their ``clientOrderId`` maps to the engine's
``orderId``.
"""

from __future__ import annotations

from collections.abc import Sequence

from livesim.sim.broker import ACCOUNT_LIQUIDATED, Broker
from livesim.sim.candles import Candle
from livesim.sim.events import CancelRejected, Event, OrderCancelled, OrderRejected
from livesim.sim.inputs import CancelOrder, ClosePosition, Input, SubmitOrder
from livesim.sim.orders import CLOSE, NET, Order, order_problems


class OutsideOrders:
    """The outside traders' desk at the broker."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._client_ids: dict[str, int] = {}  # clientOrderId -> orderId

    def order_id_for(self, client_order_id: str) -> int | None:
        """The ``orderId`` given to the outside order with this ``clientOrderId``."""
        return self._client_ids.get(client_order_id)

    def apply(self, inputs: Sequence[Input], candle: Candle, index: int,
              out: list[Event]) -> None:
        """Apply outside inputs taking effect at candle ``index``, in recorded order."""
        broker = self.broker
        for item in inputs:
            if isinstance(item, SubmitOrder):
                self._submit(item, candle, index, out)
            elif isinstance(item, CancelOrder):
                self._cancel(item, candle.ts, out)
            elif isinstance(item, ClosePosition):
                trade = broker.portfolio.trade
                side = "buy" if trade is not None and trade.direction == -1 else "sell"
                order = broker.new_order(side, CLOSE, None if trade is None else trade.qty,
                                         "close position", candle.ts, out, source="user")
                broker.fill(order, candle.open, candle.ts, out)
            else:
                raise TypeError(f"not an input: {item!r}")

    def _submit(self, item: SubmitOrder, candle: Candle, index: int,
                out: list[Event]) -> None:
        broker = self.broker
        kind = item.order_type
        # The HTTP layer checks the body first; checked again since this is the contract.
        problems = order_problems(
            side=item.side, order_type=kind, qty=item.qty, size_fraction=item.size_fraction,
            limit_price=item.limit_price, stop_price=item.stop_price,
            stop_loss=item.stop_loss, take_profit=item.take_profit,
            expires_after_candles=item.expires_after_candles, sized=True)
        qty = item.qty
        event_qty: float | None = 0
        if not problems:
            if qty is not None and not broker.params.fractional and qty == int(qty):
                qty = int(qty)
            event_qty = qty
            if event_qty is None:
                ref = item.limit_price if kind == "limit" else item.stop_price
                price = candle.open if ref is None else ref
                event_qty = broker.size(broker.portfolio.equity_at(price),
                                        broker.fill_price(price, item.side),
                                        item.size_fraction)
        order = broker.book(Order(
            0, item.side, NET, "user order", "user", kind, qty, item.size_fraction,
            item.client_order_id, item.limit_price, item.stop_price, item.stop_loss,
            item.take_profit, item.expires_after_candles), candle.ts, out, event_qty)
        reason = None
        if item.client_order_id in self._client_ids:
            reason = f"duplicate clientOrderId {item.client_order_id!r}"
        else:
            self._client_ids[item.client_order_id] = order.order_id
            if problems:
                reason = "invalid order: " + "; ".join(
                    f"{p['field']} {p['message']}" for p in problems)
            elif qty is not None and not broker.params.fractional and not isinstance(qty, int):
                reason = "qty must be whole units (the session's fractional setting is off)"
            elif broker.liquidated:
                reason = ACCOUNT_LIQUIDATED
        if reason is not None:
            out.append(OrderRejected(candle.ts, order.order_id, reason))
        elif kind == "market":
            broker.fill(order, candle.open, candle.ts, out)
        else:
            if item.expires_after_candles is not None:
                order.expires_at = index + item.expires_after_candles - 1
            broker.working.append(order)

    def _cancel(self, item: CancelOrder, ts: int, out: list[Event]) -> None:
        broker = self.broker
        if item.order_id is not None:
            order_id: int | None = item.order_id
            label = f"order {item.order_id}"
        else:
            assert item.client_order_id is not None
            order_id = self._client_ids.get(item.client_order_id)
            label = f"clientOrderId {item.client_order_id!r}"
        for order in broker.working:
            if order.order_id == order_id and order.source == "user":
                broker.working.remove(order)
                out.append(OrderCancelled(ts, order.order_id, "cancelled by user",
                                          order.client_order_id))
                return
        if order_id is None or not broker.issued(order_id):
            reason = f"no order with {label}"
        elif order_id not in self._client_ids.values():
            reason = f"{label} is not an outside order: users cancel only their own orders"
        else:
            reason = f"{label} is not open (filled, rejected, cancelled or expired)"
        out.append(CancelRejected(ts, item.order_id, item.client_order_id, reason))
