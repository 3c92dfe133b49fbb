"""Limit and stop orders, outside inputs and netting, on hand-computed candles.

Cash starts at 1000 and prices are round, so every fill and PnL can be checked on
paper.  Inputs listed at candle k take effect at candle k (market orders fill at
its open); strategy limit/stop orders work from the candle after their signal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from livesim.sim.broker import ACCOUNT_LIQUIDATED, END_OF_DATA, NO_POSITION
from livesim.sim.candles import Candle
from livesim.sim.engine import SessionEngine
from livesim.sim.events import EquitySnapshot, Event, canonical_json
from livesim.sim.inputs import CancelOrder, ClosePosition, SubmitOrder
from livesim.sim.intents import Action, OrderIntent
from tests.support.sim import bars, trade_manually

Replay = Callable[..., tuple[SessionEngine, list[list[Event]]]]
FLAT = (100.0, 100.0, 100.0, 100.0)


def trading(events: list[Event]) -> list[tuple[str, dict[str, Any]]]:
    """The candle's events between ``candle`` and ``equity``."""
    return [(e.type, e.payload()) for e in events[1:-1]]


def kinds(events: list[Event]) -> list[str]:
    return [e.type for e in events[1:-1]]


def equity(events: list[Event]) -> EquitySnapshot:
    last = events[-1]
    assert isinstance(last, EquitySnapshot)
    return last


def order(cid: str, side: str, order_type: str = "market", **kw: Any) -> SubmitOrder:
    return SubmitOrder(cid, side, order_type, **kw)


# -- touch rules --------------------------------------------------------------------------

TOUCH_CASES = [
    # side, type, price key, level, candle 1, expected fill (None: not touched)
    ("buy", "limit", "limit_price", 95.0, (100.0, 101.0, 94.0, 97.0), 95.0),
    ("buy", "limit", "limit_price", 95.0, (93.0, 96.0, 92.0, 95.0), 93.0),
    ("buy", "limit", "limit_price", 95.0, (100.0, 101.0, 95.01, 97.0), None),
    ("sell", "limit", "limit_price", 105.0, (100.0, 106.0, 99.0, 104.0), 105.0),
    ("sell", "limit", "limit_price", 105.0, (107.0, 108.0, 104.0, 105.0), 107.0),
    ("sell", "limit", "limit_price", 105.0, (100.0, 104.99, 99.0, 104.0), None),
    ("buy", "stop", "stop_price", 105.0, (100.0, 106.0, 99.0, 104.0), 105.0),
    ("buy", "stop", "stop_price", 105.0, (107.0, 108.0, 104.0, 105.0), 107.0),
    ("buy", "stop", "stop_price", 105.0, (100.0, 104.99, 99.0, 104.0), None),
    ("sell", "stop", "stop_price", 95.0, (100.0, 101.0, 94.0, 96.0), 95.0),
    ("sell", "stop", "stop_price", 95.0, (93.0, 96.0, 92.0, 95.0), 93.0),
    ("sell", "stop", "stop_price", 95.0, (100.0, 101.0, 95.01, 96.0), None),
]


@pytest.mark.parametrize(("side", "order_type", "key", "level", "candle", "fill"), TOUCH_CASES,
                         ids=[f"{c[0]}-{c[1]}-{'miss' if c[5] is None else c[5]}"
                              for c in TOUCH_CASES])
def test_order_touch_rule_fills_at_level_or_gapped_open(
        side: str, order_type: str, key: str, level: float,
        candle: tuple[float, float, float, float], fill: float | None) -> None:
    submit = order("a", side, order_type, qty=5, **{key: level})
    _, steps = trade_manually(bars(FLAT, candle, FLAT), {0: [submit]}, initialCash=1000,
                              allowShort=True)
    assert trading(steps[0]) == [("order_submitted", {
        "orderId": 1, "side": side, "qty": 5, "reason": "user order", "source": "user",
        "type": order_type, "clientOrderId": "a", key.replace("_p", "P"): level})]
    if fill is None:
        assert trading(steps[1]) == []
        return
    direction = 1 if side == "buy" else -1
    assert trading(steps[1]) == [
        ("order_filled", {"orderId": 1, "side": side, "qty": 5, "price": fill,
                          "commission": 0.0}),
        ("trade_opened", {"tradeId": 1, "side": "long" if direction == 1 else "short",
                          "qty": 5, "entryTs": 60_000, "entryPrice": fill}),
    ]
    snap = equity(steps[1])
    assert snap.cash == 1000 - direction * 5 * fill
    assert snap.position_qty == direction * 5


def test_order_limit_is_good_till_cancelled_across_candles() -> None:
    candles = bars(FLAT, FLAT, FLAT, (99.0, 99.0, 89.0, 90.0))
    engine, steps = trade_manually(candles, {0: [order("a", "buy", "limit", qty=1,
                                                       limit_price=90.0)]})
    assert [kinds(s) for s in steps[1:3]] == [[], []]
    assert kinds(steps[3]) == ["order_filled", "trade_opened"]
    assert trading(steps[3])[0][1]["price"] == 90.0
    assert engine.open_orders() == []


def test_order_expires_after_its_candles_and_never_fills_later() -> None:
    candles = bars(FLAT, FLAT, (100.0, 100.0, 89.0, 95.0))
    engine, steps = trade_manually(candles, {0: [order(
        "a", "buy", "limit", qty=1, limit_price=90.0, expires_after_candles=2)]})
    assert engine.open_orders() == []
    assert trading(steps[0])[0][1]["expiresAfterCandles"] == 2
    # In the book for candles 0 and 1, expired at the end of candle 1.
    assert trading(steps[1]) == [("order_expired", {"orderId": 1, "candles": 2,
                                                    "clientOrderId": "a"})]
    assert trading(steps[2]) == []


def test_order_open_orders_lists_the_book() -> None:
    engine, _ = trade_manually(bars(FLAT, FLAT), {0: [order(
        "a", "sell", "stop", qty=2, stop_price=90.0, expires_after_candles=5)]})
    assert engine.open_orders() == [{
        "orderId": 1, "side": "sell", "type": "stop", "source": "user", "qty": 2,
        "reason": "user order", "clientOrderId": "a", "stopPrice": 90.0,
        "expiresAfterCandles": 5, "expiresAtCandle": 4}]


def test_order_cancel_by_client_id_then_again_and_unknown() -> None:
    candles = bars(FLAT, FLAT, (100.0, 100.0, 80.0, 90.0))
    _, steps = trade_manually(candles, {
        0: [order("a", "buy", "limit", qty=1, limit_price=90.0)],
        1: [CancelOrder(client_order_id="a")],
        2: [CancelOrder(order_id=1), CancelOrder(client_order_id="zz"), CancelOrder(order_id=9)],
    })
    assert trading(steps[1]) == [("order_cancelled", {
        "orderId": 1, "reason": "cancelled by user", "clientOrderId": "a"})]
    assert trading(steps[2]) == [
        ("cancel_rejected", {"orderId": 1, "reason": "order 1 is not open (filled, rejected, "
                                                     "cancelled or expired)"}),
        ("cancel_rejected", {"clientOrderId": "zz", "reason": "no order with clientOrderId "
                                                              "'zz'"}),
        ("cancel_rejected", {"orderId": 9, "reason": "no order with order 9"}),
    ]


def test_order_user_cannot_cancel_the_strategys_order(replay: Replay) -> None:
    intent = OrderIntent(Action.BUY, "dip", order_type="limit", limit_price=90.0)
    _, steps = replay(bars(FLAT, FLAT, FLAT), {0: intent}, {1: [CancelOrder(order_id=1)]})
    assert trading(steps[1]) == [("cancel_rejected", {
        "orderId": 1,
        "reason": "order 1 is not an outside order: users cancel only their own orders"})]


# -- stop-loss / take-profit attached to an order -------------------------------------------

@pytest.mark.parametrize(("candle", "reason", "exit_price"), [
    ((100.0, 111.0, 99.0, 110.0), "take profit", 110.0),
    ((100.0, 111.0, 94.0, 100.0), "stop loss", 95.0),  # both touched: the stop wins
    ((90.0, 92.0, 88.0, 91.0), "stop loss: gapped through the stop, filled at the open", 90.0),
])
def test_order_attached_stop_loss_and_take_profit_close_the_trade(
        candle: tuple[float, float, float, float], reason: str, exit_price: float) -> None:
    submit = order("a", "buy", qty=5, stop_loss=95.0, take_profit=110.0)
    _, steps = trade_manually(bars(FLAT, candle, FLAT), {0: [submit]})
    assert kinds(steps[0]) == ["order_submitted", "order_filled", "trade_opened"]
    assert trading(steps[1]) == [
        ("order_submitted", {"orderId": 2, "side": "sell", "qty": 5, "reason": reason,
                             "source": "broker", "type": "market"}),
        ("order_filled", {"orderId": 2, "side": "sell", "qty": 5, "price": exit_price,
                          "commission": 0.0}),
        ("trade_closed", {"tradeId": 1, "side": "long", "qty": 5, "entryTs": 0,
                          "entryPrice": 100.0, "exitTs": 60_000, "exitPrice": exit_price,
                          "pnl": 5 * (exit_price - 100.0), "commission": 0.0}),
    ]


def test_order_stop_loss_on_the_wrong_side_of_the_fill_is_rejected() -> None:
    _, steps = trade_manually(bars(FLAT, FLAT), {0: [order("a", "buy", qty=5,
                                                           stop_loss=101.0)]})
    assert trading(steps[0])[1] == ("order_rejected", {
        "orderId": 1, "reason": "stopLoss 101 is not below the fill price 100"})
    assert equity(steps[0]).position_qty == 0


def test_order_stop_entry_reaches_its_target_in_the_same_candle(replay: Replay) -> None:
    intent = OrderIntent(Action.BUY, "breakout", order_type="stop", stop_price=105.0,
                         take_profit=108.0)
    _, steps = replay(bars(FLAT, (100.0, 109.0, 99.0, 107.0), FLAT), {0: intent},
                      initialCash=1000)
    assert kinds(steps[1]) == ["order_filled", "trade_opened", "order_submitted",
                               "order_filled", "trade_closed"]
    assert trading(steps[1])[0][1]["price"] == 105.0
    assert trading(steps[1])[3][1]["price"] == 108.0


def test_order_limit_entry_target_waits_for_the_next_candle(replay: Replay) -> None:
    intent = OrderIntent(Action.BUY, "dip", order_type="limit", limit_price=95.0,
                         take_profit=99.0)
    candles = bars(FLAT, (100.0, 101.0, 94.0, 97.0), (97.0, 99.5, 96.0, 99.0))
    _, steps = replay(candles, {0: intent}, initialCash=1000)
    # The high of 101 may have come before the dip to 95: the target is not taken there.
    assert kinds(steps[1]) == ["order_filled", "trade_opened"]
    assert trading(steps[2])[1][1]["price"] == 99.0
    assert trading(steps[2])[2][1]["pnl"] == 10 * 4.0


# -- precedence inside one candle ------------------------------------------------------------

def test_order_precedence_stop_loss_before_working_limit() -> None:
    candles = bars(FLAT, (100.0, 106.0, 94.0, 100.0))
    _, steps = trade_manually(candles, {0: [
        order("a", "buy", qty=10, stop_loss=95.0),
        order("b", "sell", "limit", qty=10, limit_price=105.0)]})
    assert trading(steps[1]) == [
        ("order_submitted", {"orderId": 3, "side": "sell", "qty": 10, "reason": "stop loss",
                             "source": "broker", "type": "market"}),
        ("order_filled", {"orderId": 3, "side": "sell", "qty": 10, "price": 95.0,
                          "commission": 0.0}),
        ("trade_closed", {"tradeId": 1, "side": "long", "qty": 10, "entryTs": 0,
                          "entryPrice": 100.0, "exitTs": 60_000, "exitPrice": 95.0,
                          "pnl": -50.0, "commission": 0.0}),
        ("order_rejected", {"orderId": 2, "reason": "shorts are not allowed (allowShort is "
                                                    "off): a sell only closes a long"}),
    ]


def test_order_strategy_queue_fills_before_outside_orders(replay: Replay) -> None:
    candles = bars(FLAT, (101.0, 101.0, 101.0, 101.0), (102.0, 102.0, 102.0, 102.0), FLAT)
    _, steps = replay(candles, {0: Action.BUY}, {
        1: [order("u1", "buy", qty=1)], 2: [order("u2", "sell", qty=9)]}, initialCash=1000)
    assert kinds(steps[1]) == ["order_filled", "trade_opened", "order_submitted",
                               "order_rejected"]
    assert trading(steps[1])[3][1]["reason"] == (
        "a long position is already open: one trade at a time (no pyramiding)")
    # The outside sell closes the strategy's trade: one account, one position.
    assert trading(steps[2])[1:] == [
        ("order_filled", {"orderId": 3, "side": "sell", "qty": 9, "price": 102.0,
                          "commission": 0.0}),
        ("trade_closed", {"tradeId": 1, "side": "long", "qty": 9, "entryTs": 60_000,
                          "entryPrice": 101.0, "exitTs": 120_000, "exitPrice": 102.0,
                          "pnl": 9.0, "commission": 0.0}),
    ]


def test_order_strategy_signal_closes_a_position_a_user_opened(replay: Replay) -> None:
    candles = bars(FLAT, FLAT, (103.0, 103.0, 103.0, 103.0), FLAT)
    _, steps = replay(candles, {1: Action.SELL}, {0: [order("u", "buy", qty=5)]})
    assert kinds(steps[2]) == ["order_filled", "trade_closed"]
    assert trading(steps[2])[1][1]["pnl"] == 15.0


# -- netting ----------------------------------------------------------------------------------

def test_order_netting_reduces_then_reverses_then_refuses_to_pyramid() -> None:
    candles = bars(FLAT, (110.0,) * 4, (120.0,) * 4, FLAT)
    _, steps = trade_manually(candles, {0: [order("a", "buy", qty=10)],
                                        1: [order("b", "sell", qty=4)],
                                        2: [order("c", "sell", qty=10)],
                                        3: [order("d", "sell", qty=1)]},
                              initialCash=1000, allowShort=True)
    assert trading(steps[1])[1:] == [
        ("order_filled", {"orderId": 2, "side": "sell", "qty": 4, "price": 110.0,
                          "commission": 0.0}),
        ("trade_closed", {"tradeId": 1, "side": "long", "qty": 4, "entryTs": 0,
                          "entryPrice": 100.0, "exitTs": 60_000, "exitPrice": 110.0,
                          "pnl": 40.0, "commission": 0.0}),
    ]
    assert equity(steps[1]).position_qty == 6
    assert trading(steps[2])[1:] == [
        ("order_filled", {"orderId": 3, "side": "sell", "qty": 10, "price": 120.0,
                          "commission": 0.0}),
        ("trade_closed", {"tradeId": 1, "side": "long", "qty": 6, "entryTs": 0,
                          "entryPrice": 100.0, "exitTs": 120_000, "exitPrice": 120.0,
                          "pnl": 120.0, "commission": 0.0}),
        ("trade_opened", {"tradeId": 2, "side": "short", "qty": 4, "entryTs": 120_000,
                          "entryPrice": 120.0}),
    ]
    assert equity(steps[2]).payload() == {
        "equity": 1160.0, "cash": 1640.0, "positionQty": -4, "unrealizedPnl": 0.0,
        "realizedPnl": 160.0, "drawdownPct": 0.0}
    assert trading(steps[3])[1] == ("order_rejected", {
        "orderId": 4,
        "reason": "a short position is already open: one trade at a time (no pyramiding)"})


def test_order_partial_close_carries_its_share_of_entry_commission() -> None:
    candles = bars(FLAT, (110.0,) * 4)
    _, steps = trade_manually(candles, {0: [order("a", "buy", qty=9)],
                                        1: [order("b", "sell", qty=3)]},
                              initialCash=1000, commission=0.01)
    closed = trading(steps[1])[2][1]
    # Entry fee 9 × 100 × 1% = 9, a third of it is 3; exit fee 3 × 110 × 1% = 3.3.
    assert closed["commission"] == pytest.approx(6.3)
    assert closed["pnl"] == pytest.approx(30.0 - 6.3)
    snap = equity(steps[1])
    assert snap.unrealized_pnl == pytest.approx(6 * 10.0 - 6.0)
    assert snap.equity == pytest.approx(1000 + snap.realized_pnl + snap.unrealized_pnl)


def test_order_without_allow_short_a_sell_only_closes_the_long() -> None:
    _, steps = trade_manually(bars(FLAT, FLAT), {0: [order("a", "buy", qty=4)],
                                                 1: [order("b", "sell", qty=15)]})
    assert trading(steps[1])[1][1]["qty"] == 4
    assert equity(steps[1]).position_qty == 0


@pytest.mark.parametrize(("submit", "reason"), [
    (order("a", "buy", qty=11), "insufficient equity: 11 units at 100 cost 1100.00 with "
                                "commission; equity is 1000.00"),
    (order("a", "sell", qty=1), "shorts are not allowed (allowShort is off): a sell only "
                                "closes a long"),
    (order("a", "buy", qty=1.5), "qty must be whole units (the session's fractional setting "
                                 "is off)"),
])
def test_order_outside_order_rejected_with_reason(submit: SubmitOrder, reason: str) -> None:
    _, steps = trade_manually(bars(FLAT, FLAT), {0: [submit]}, initialCash=1000)
    assert trading(steps[0])[1] == ("order_rejected", {"orderId": 1, "reason": reason})


def test_order_duplicate_client_order_id_is_rejected() -> None:
    _, steps = trade_manually(bars(FLAT, FLAT), {0: [order("a", "buy", qty=1)],
                                                 1: [order("a", "sell", qty=1)]})
    assert trading(steps[1])[1] == ("order_rejected", {
        "orderId": 2, "reason": "duplicate clientOrderId 'a'"})


def test_order_size_fraction_sizes_from_equity_at_the_fill() -> None:
    _, steps = trade_manually(bars(FLAT, FLAT), {0: [order("a", "buy", size_fraction=0.5)]},
                              initialCash=1000)
    submitted, filled, _ = trading(steps[0])
    assert (submitted[1]["qty"], submitted[1]["sizeFraction"]) == (5, 0.5)
    assert filled[1]["qty"] == 5


def test_order_outside_market_order_fills_at_the_open_even_with_fill_close() -> None:
    candles = bars(FLAT, (102.0, 103.0, 101.0, 101.5))
    _, steps = trade_manually(candles, {1: [order("a", "buy", qty=1)]}, fill="close")
    assert trading(steps[1])[1][1]["price"] == 102.0


def test_order_close_position_flattens_at_the_open_and_is_rejected_when_flat() -> None:
    candles = bars(FLAT, (105.0,) * 4, FLAT)
    _, steps = trade_manually(candles, {0: [order("a", "buy", qty=10)], 1: [ClosePosition()],
                                        2: [ClosePosition()]})
    assert trading(steps[1]) == [
        ("order_submitted", {"orderId": 2, "side": "sell", "qty": 10,
                             "reason": "close position", "source": "user", "type": "market"}),
        ("order_filled", {"orderId": 2, "side": "sell", "qty": 10, "price": 105.0,
                          "commission": 0.0}),
        ("trade_closed", {"tradeId": 1, "side": "long", "qty": 10, "entryTs": 0,
                          "entryPrice": 100.0, "exitTs": 60_000, "exitPrice": 105.0,
                          "pnl": 50.0, "commission": 0.0}),
    ]
    assert trading(steps[2])[1] == ("order_rejected", {"orderId": 3, "reason": NO_POSITION})


# -- strategy limit and stop intents -------------------------------------------------------

def test_order_strategy_limit_works_from_the_next_candle(replay: Replay) -> None:
    intent = OrderIntent(Action.BUY, "dip", order_type="limit", limit_price=95.0)
    candles = bars((100.0, 100.0, 90.0, 100.0), (100.0, 101.0, 94.0, 97.0), FLAT)
    _, steps = replay(candles, {0: intent}, initialCash=1000)
    assert trading(steps[0]) == [("order_submitted", {
        "orderId": 1, "side": "buy", "qty": 10, "reason": "dip", "source": "strategy",
        "type": "limit", "limitPrice": 95.0})]
    assert trading(steps[1])[0] == ("order_filled", {
        "orderId": 1, "side": "buy", "qty": 10, "price": 95.0, "commission": 0.0})


def test_order_new_strategy_signal_cancels_its_unfilled_orders(replay: Replay) -> None:
    first = OrderIntent(Action.BUY, "dip", order_type="limit", limit_price=90.0)
    second = OrderIntent(Action.BUY, "breakout", order_type="stop", stop_price=110.0)
    _, steps = replay(bars(FLAT, FLAT, FLAT), {0: first, 1: second})
    assert kinds(steps[1]) == ["order_cancelled", "order_submitted"]
    assert trading(steps[1])[0][1] == {"orderId": 1,
                                       "reason": "superseded by a new strategy signal"}


def test_order_strategy_limit_expiry_counts_from_the_next_candle(replay: Replay) -> None:
    intent = OrderIntent(Action.BUY, "dip", order_type="limit", limit_price=90.0,
                         expires_after_candles=2)
    _, steps = replay(bars(FLAT, FLAT, FLAT, FLAT), {0: intent})
    assert [kinds(s) for s in steps] == [["order_submitted"], [], ["order_expired"], []]


@pytest.mark.parametrize(("intent", "reason"), [
    (OrderIntent(Action.BUY, "x", order_type="limit"),
     "invalid order: limitPrice a limit order needs limitPrice"),
    (OrderIntent(Action.BUY, "x", order_type="stop", stop_price=float("nan")),
     "invalid order: stopPrice must be a finite price > 0 and <= 1e+15"),
])
def test_order_strategy_invalid_intent_is_rejected(
        replay: Replay, intent: OrderIntent, reason: str) -> None:
    _, steps = replay(bars(FLAT, FLAT), {0: intent})
    assert trading(steps[0])[1] == ("order_rejected", {"orderId": 1, "reason": reason})


def test_order_strategy_limit_on_last_candle_is_rejected(replay: Replay) -> None:
    intent = OrderIntent(Action.BUY, "dip", order_type="limit", limit_price=90.0)
    _, steps = replay(bars(FLAT, FLAT), {1: intent})
    assert trading(steps[1])[1] == ("order_rejected", {"orderId": 1, "reason": END_OF_DATA})


# -- margin --------------------------------------------------------------------------------

def test_order_runaway_short_is_liquidated_at_the_close(replay: Replay) -> None:
    candles = bars(FLAT, (150.0,) * 4, (150.0, 210.0, 150.0, 210.0),
                   FLAT, FLAT)
    engine, steps = replay(candles, {3: Action.BUY}, {
        0: [order("a", "sell", qty=10), order("b", "buy", "limit", qty=10, limit_price=50.0)],
        4: [order("c", "buy", qty=1)]}, initialCash=1000, allowShort=True)
    assert equity(steps[1]).equity == 500.0
    assert trading(steps[2]) == [
        ("order_submitted", {"orderId": 3, "side": "buy", "qty": 10,
                             "reason": "liquidation: equity <= 0 at the close",
                             "source": "broker", "type": "market"}),
        ("order_filled", {"orderId": 3, "side": "buy", "qty": 10, "price": 210.0,
                          "commission": 0.0}),
        ("trade_closed", {"tradeId": 1, "side": "short", "qty": 10, "entryTs": 0,
                          "entryPrice": 100.0, "exitTs": 120_000, "exitPrice": 210.0,
                          "pnl": -1100.0, "commission": 0.0}),
        ("order_cancelled", {"orderId": 2, "reason": "account liquidated",
                             "clientOrderId": "b"}),
        ("account_liquidated", {"equity": -100.0, "cash": -100.0, "tradeIds": [1]}),
    ]
    assert equity(steps[2]).payload()["positionQty"] == 0
    # Afterwards nothing is accepted, from the strategy or from outside.
    assert trading(steps[3]) == [
        ("order_submitted", {"orderId": 4, "side": "buy", "qty": 0, "reason": "scripted buy",
                             "source": "strategy", "type": "market"}),
        ("order_rejected", {"orderId": 4, "reason": ACCOUNT_LIQUIDATED})]
    assert trading(steps[4])[1] == ("order_rejected", {"orderId": 5,
                                                       "reason": ACCOUNT_LIQUIDATED})
    all_types = [e.type for step in steps for e in step]
    assert all_types.count("account_liquidated") == 1
    assert engine.liquidated
    assert (engine.order_id_for("b"), engine.order_id_for("c"), engine.order_id_for("x")) == (
        2, 5, None)
    assert engine.stats()["finalEquity"] == -100.0


# -- the manual profile --------------------------------------------------------------------

def test_order_manual_profile_without_inputs_only_marks_cash() -> None:
    candles: list[Candle] = bars(FLAT, (120.0,) * 4, FLAT)
    engine, steps = trade_manually(candles, {})
    assert all(kinds(step) == [] for step in steps)
    assert [equity(s).equity for s in steps] == [10_000.0] * 3
    assert engine.strategy.on_candle(candles[0]) == []


def test_order_outside_order_with_nan_is_rejected_and_logs_no_nan() -> None:
    # The HTTP layer refuses such a body; the engine still never crashes or logs a NaN.
    bad = order("a", "buy", "limit", size_fraction=0.5, limit_price=float("nan"))
    _, steps = trade_manually(bars(FLAT, FLAT), {0: [bad]})
    submitted, rejected = trading(steps[0])
    assert submitted[1] == {"orderId": 1, "side": "buy", "qty": 0, "reason": "user order",
                            "source": "user", "type": "limit", "clientOrderId": "a",
                            "sizeFraction": 0.5}
    assert rejected[1]["reason"].startswith("invalid order: limitPrice must be a finite price")
    for event in steps[0]:
        canonical_json(event.payload())
