"""The account: cash, the open trade, realized PnL, and equity marked at the close.

Cash moves with every fill (a long entry pays ``qty × price``, a short entry
receives it; commission is always paid), so ``equity = cash + positionQty × close``
holds by construction at every mark.  ``unrealizedPnl`` includes the open trade's
entry commission, so ``equity = initialCash + realizedPnl + unrealizedPnl`` too.
"""

from __future__ import annotations

from dataclasses import dataclass

from livesim.sim.events import EquitySnapshot, TradeClosed, TradeOpened

_SIDES = {1: "long", -1: "short"}


@dataclass(slots=True)
class OpenTrade:
    """The position: at most one trade is open at a time (no pyramiding, no hedging)."""

    trade_id: int
    direction: int  # +1 long, -1 short
    qty: float  # positive; an int when sizes are whole units
    entry_ts: int
    entry_price: float
    entry_commission: float
    stop_price: float | None
    target_price: float | None


class Portfolio:
    """Cash and position bookkeeping plus the closed-trade tallies stats need."""

    __slots__ = ("initial_cash", "cash", "trade", "realized_pnl", "commissions", "peak_equity",
                 "closed_trades", "winning_trades", "gross_profit", "gross_loss",
                 "_next_trade_id")

    def __init__(self, initial_cash: float) -> None:
        self.initial_cash = initial_cash
        self.cash = initial_cash
        self.trade: OpenTrade | None = None
        self.realized_pnl = 0.0
        self.commissions = 0.0
        self.peak_equity = initial_cash
        self.closed_trades = 0
        self.winning_trades = 0
        self.gross_profit = 0.0
        self.gross_loss = 0.0
        self._next_trade_id = 1

    def open_trade(self, ts: int, direction: int, qty: float, price: float, commission: float,
                   stop_price: float | None, target_price: float | None) -> TradeOpened:
        """Open a trade at ``price``; the caller has checked that none is open."""
        assert self.trade is None
        trade_id = self._next_trade_id
        self._next_trade_id = trade_id + 1
        self.trade = OpenTrade(trade_id, direction, qty, ts, price, commission, stop_price,
                               target_price)
        # A long pays for its units, a short receives the sale proceeds.
        self.cash -= direction * qty * price + commission
        self.commissions += commission
        return TradeOpened(ts, trade_id, _SIDES[direction], qty, ts, price)

    def close_trade(self, ts: int, price: float, commission: float) -> TradeClosed:
        """Close the open trade at ``price``; its pnl is net of both commissions."""
        trade = self.trade
        assert trade is not None
        self.trade = None
        direction, qty = trade.direction, trade.qty
        self.cash += direction * qty * price - commission
        self.commissions += commission
        total_commission = trade.entry_commission + commission
        pnl = direction * qty * (price - trade.entry_price) - total_commission
        self._tally(pnl)
        return TradeClosed(ts, trade.trade_id, _SIDES[direction], qty, trade.entry_ts,
                           trade.entry_price, ts, price, pnl, total_commission)

    def reduce_trade(self, ts: int, qty: float, price: float,
                     commission: float) -> TradeClosed:
        """Close ``qty`` (less than the whole) of the open trade at ``price``.

        The closed part is its own ``trade_closed`` under the trade's id, carrying its
        share of the entry commission; the rest stays open with the same id, entry
        price and levels (backtesting.py splits a trade the same way).
        """
        trade = self.trade
        assert trade is not None
        assert 0 < qty < trade.qty
        direction = trade.direction
        entry_share = trade.entry_commission * qty / trade.qty
        trade.entry_commission -= entry_share
        trade.qty -= qty
        self.cash += direction * qty * price - commission
        self.commissions += commission
        total_commission = entry_share + commission
        pnl = direction * qty * (price - trade.entry_price) - total_commission
        self._tally(pnl)
        return TradeClosed(ts, trade.trade_id, _SIDES[direction], qty, trade.entry_ts,
                           trade.entry_price, ts, price, pnl, total_commission)

    def _tally(self, pnl: float) -> None:
        self.realized_pnl += pnl
        self.closed_trades += 1
        if pnl > 0:
            self.winning_trades += 1
            self.gross_profit += pnl
        elif pnl < 0:
            self.gross_loss -= pnl

    def equity_at(self, price: float) -> float:
        """Cash plus the position marked at ``price``."""
        trade = self.trade
        if trade is None:
            return self.cash
        return self.cash + trade.direction * trade.qty * price

    def mark(self, ts: int, close: float) -> EquitySnapshot:
        """Mark the account at ``close``: the candle's ``equity`` event."""
        trade = self.trade
        cash = self.cash
        peak = self.peak_equity
        if trade is None:
            if cash > peak:
                self.peak_equity = peak = cash
            return EquitySnapshot(ts, cash, cash, 0, 0.0, self.realized_pnl,
                                  (peak - cash) / peak * 100.0)
        qty = trade.direction * trade.qty
        equity = cash + qty * close
        if equity > peak:
            self.peak_equity = peak = equity
        return EquitySnapshot(ts, equity, cash, qty,
                              qty * (close - trade.entry_price) - trade.entry_commission,
                              self.realized_pnl, (peak - equity) / peak * 100.0)
