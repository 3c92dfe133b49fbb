"""One hand-computed scenario per SPEC §5 broker rule.

Every number below can be checked on paper: cash starts at 1000 and prices are
round, so fills, fees and PnL are small sums.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from livesim.sim.broker import END_OF_DATA
from livesim.sim.candles import Candle
from livesim.sim.engine import SessionEngine
from livesim.sim.events import EquitySnapshot, Event
from livesim.sim.intents import Action

Bars = Callable[..., list[Candle]]
Replay = Callable[..., tuple[SessionEngine, list[list[Event]]]]
FLAT = (100.0, 100.0, 100.0, 100.0)


def trading(events: list[Event]) -> list[tuple[str, dict[str, Any]]]:
    """The candle's events between ``candle`` and ``equity``."""
    return [(e.type, e.payload()) for e in events[1:-1]]


def equity(events: list[Event]) -> EquitySnapshot:
    last = events[-1]
    assert isinstance(last, EquitySnapshot)
    return last


def test_broker_default_fill_buys_at_next_open_sized_at_that_price(
        replay: Replay, make_bars: Bars) -> None:
    candles = make_bars(FLAT, (102.0, 105.0, 101.0, 104.0), (105.0, 107.0, 104.0, 106.0))
    _, steps = replay(candles, {0: Action.BUY}, initialCash=1000)
    # The submission shows the size at the signal close (1000 // 100); the fill resizes.
    assert trading(steps[0]) == [("order_submitted", {
        "orderId": 1, "side": "buy", "qty": 10, "reason": "scripted buy", "source": "strategy",
                             "type": "market"})]
    assert trading(steps[1]) == [
        ("order_filled", {"orderId": 1, "side": "buy", "qty": 9, "price": 102.0,
                          "commission": 0.0}),
        ("trade_opened", {"tradeId": 1, "side": "long", "qty": 9, "entryTs": 60_000,
                          "entryPrice": 102.0}),
    ]
    snap = equity(steps[1])
    assert (snap.cash, snap.position_qty, snap.equity) == (82.0, 9, 82.0 + 9 * 104.0)


def test_broker_fill_close_buys_at_signal_close(replay: Replay, make_bars: Bars) -> None:
    candles = make_bars(FLAT, (102.0, 105.0, 101.0, 104.0), (105.0, 107.0, 104.0, 106.0))
    _, steps = replay(candles, {0: Action.BUY}, initialCash=1000, fill="close")
    assert [t for t, _ in trading(steps[0])] == ["order_submitted", "order_filled",
                                                 "trade_opened"]
    assert trading(steps[0])[1][1]["price"] == 100.0
    assert trading(steps[0])[2][1] == {"tradeId": 1, "side": "long", "qty": 10, "entryTs": 0,
                                       "entryPrice": 100.0}
    assert equity(steps[1]).equity == 1040.0


def test_broker_reversal_closes_and_opens_at_one_price(replay: Replay, make_bars: Bars) -> None:
    candles = make_bars(FLAT, (100.0, 112.0, 99.0, 110.0), (110.0, 111.0, 104.0, 105.0))
    _, steps = replay(candles, {0: Action.BUY, 1: Action.SELL}, initialCash=1000,
                      allowShort=True)
    assert trading(steps[1])[2:] == [
        ("order_submitted", {"orderId": 2, "side": "sell", "qty": 10,
                             "reason": "scripted sell", "source": "strategy",
                             "type": "market"}),
        ("order_submitted", {"orderId": 3, "side": "sell", "qty": 10,
                             "reason": "scripted sell", "source": "strategy",
                             "type": "market"}),
    ]
    assert trading(steps[2]) == [
        ("order_filled", {"orderId": 2, "side": "sell", "qty": 10, "price": 110.0,
                          "commission": 0.0}),
        ("trade_closed", {"tradeId": 1, "side": "long", "qty": 10, "entryTs": 60_000,
                          "entryPrice": 100.0, "exitTs": 120_000, "exitPrice": 110.0,
                          "pnl": 100.0, "commission": 0.0}),
        ("order_filled", {"orderId": 3, "side": "sell", "qty": 10, "price": 110.0,
                          "commission": 0.0}),
        ("trade_opened", {"tradeId": 2, "side": "short", "qty": 10, "entryTs": 120_000,
                          "entryPrice": 110.0}),
    ]
    snap = equity(steps[2])
    # Short proceeds are cash: 1100 + 1100; the short is worth -10 × 105.
    assert snap.payload() == {"equity": 1150.0, "cash": 2200.0, "positionQty": -10,
                              "unrealizedPnl": 50.0, "realizedPnl": 100.0,
                              "drawdownPct": 0.0}


def test_broker_commission_charged_on_entry_and_exit(replay: Replay, make_bars: Bars) -> None:
    candles = make_bars(FLAT, FLAT, (110.0, 110.0, 110.0, 110.0))
    engine, steps = replay(candles, {0: Action.BUY, 1: Action.SELL}, initialCash=1000,
                           commission=0.01)
    # 1000 // (100 × 1.01) = 9 units; fee 9 × 100 × 1% = 9.
    entry = trading(steps[1])[0][1]
    assert (entry["qty"], entry["commission"]) == (9, 9.0)
    assert equity(steps[1]).cash == 91.0
    exit_fill, closed = (p for _, p in trading(steps[2]))
    assert exit_fill["commission"] == pytest.approx(9.9)
    assert closed["pnl"] == pytest.approx(90.0 - 9.0 - 9.9)
    assert closed["commission"] == pytest.approx(18.9)
    assert equity(steps[2]).cash == pytest.approx(1071.1)
    assert engine.stats()["commissions"] == pytest.approx(18.9)


def test_broker_whole_units_rounds_size_down(replay: Replay, make_bars: Bars) -> None:
    candles = make_bars((300.0, 300.0, 300.0, 300.0), (300.0, 300.0, 300.0, 300.0))
    _, steps = replay(candles, {0: Action.BUY}, initialCash=1000)
    assert trading(steps[1])[0][1]["qty"] == 3
    assert equity(steps[1]).cash == 100.0


def test_broker_fractional_floors_to_lot_step(replay: Replay, make_bars: Bars) -> None:
    candles = make_bars((300.0, 300.0, 300.0, 300.0), (300.0, 300.0, 300.0, 300.0))
    _, steps = replay(candles, {0: Action.BUY}, initialCash=1000, fractional=True)
    qty = trading(steps[1])[0][1]["qty"]
    assert qty == 3.33333333
    assert 0.0 <= equity(steps[1]).cash < 300 * 1e-8 * 2


def test_broker_size_zero_is_rejected_with_reason(replay: Replay, make_bars: Bars) -> None:
    candles = make_bars(FLAT, FLAT, FLAT)
    engine, steps = replay(candles, {0: Action.BUY}, initialCash=50)
    ((kind, payload),) = trading(steps[1])
    assert kind == "order_rejected"
    assert payload == {"orderId": 1, "reason": "size is 0: 1 of equity 50.00 cannot buy one "
                                                "unit at 100 plus 0 commission"}
    assert equity(steps[2]).equity == 50.0
    assert engine.stats()["trades"] == 0


@pytest.mark.parametrize(("allow_short", "expected"), [
    (False, [("sell", 10)]),
    (True, [("sell", 10), ("sell", 10)]),
])
def test_broker_bearish_signal_shorts_only_with_allow_short(
        replay: Replay, make_bars: Bars, allow_short: bool,
        expected: list[tuple[str, int]]) -> None:
    candles = make_bars(FLAT, FLAT, FLAT, FLAT)
    _, steps = replay(candles, {0: Action.BUY, 1: Action.SELL}, initialCash=1000,
                      allowShort=allow_short)
    submitted = [(p["side"], p["qty"]) for t, p in trading(steps[1]) if t == "order_submitted"]
    assert submitted == expected
    assert equity(steps[3]).position_qty == (-10 if allow_short else 0)


def test_broker_bearish_signal_when_flat_without_shorts_does_nothing(
        replay: Replay, make_bars: Bars) -> None:
    _, steps = replay(make_bars(FLAT, FLAT, FLAT), {0: Action.SELL})
    assert all(trading(step) == [] for step in steps)


def test_broker_exit_intents_close_only_their_own_side(replay: Replay, make_bars: Bars) -> None:
    candles = make_bars(FLAT, FLAT, FLAT, FLAT)
    _, steps = replay(candles, {0: Action.SELL, 1: Action.EXIT_LONG, 2: Action.EXIT_SHORT},
                      allowShort=True, fill="close")
    assert trading(steps[1]) == []
    assert [t for t, _ in trading(steps[2])] == ["order_submitted", "order_filled",
                                                 "trade_closed"]


@pytest.mark.parametrize(("allow_short", "exit_price"), [(False, 95.0), (True, 105.0)])
def test_broker_stop_and_target_touched_in_one_candle_stop_wins(
        replay: Replay, make_bars: Bars, allow_short: bool, exit_price: float) -> None:
    candles = make_bars(FLAT, (100.0, 106.0, 94.0, 100.0), FLAT)
    action = Action.SELL if allow_short else Action.BUY
    _, steps = replay(candles, {0: action}, initialCash=1000, fill="close",
                      allowShort=allow_short, stopLossPct=5, takeProfitPct=5)
    (_, order), (_, fill), (_, closed) = trading(steps[1])
    assert order["reason"] == "stop loss"
    assert fill["price"] == exit_price
    assert closed["pnl"] == -50.0


def test_broker_gap_through_stop_fills_at_open(replay: Replay, make_bars: Bars) -> None:
    candles = make_bars(FLAT, (90.0, 92.0, 88.0, 91.0), FLAT)
    _, steps = replay(candles, {0: Action.BUY}, initialCash=1000, fill="close",
                      stopLossPct=5)
    (_, order), (_, fill), (_, closed) = trading(steps[1])
    assert order["reason"].startswith("stop loss: gapped through the stop")
    assert (fill["price"], closed["pnl"]) == (90.0, -100.0)


def test_broker_gap_through_target_fills_at_open(replay: Replay, make_bars: Bars) -> None:
    candles = make_bars(FLAT, (110.0, 112.0, 108.0, 111.0), FLAT)
    _, steps = replay(candles, {0: Action.BUY}, initialCash=1000, fill="close",
                      takeProfitPct=5)
    (_, order), (_, fill), _ = trading(steps[1])
    assert order["reason"].startswith("take profit: gapped")
    assert fill["price"] == 110.0


def test_broker_stop_checked_on_the_candle_whose_open_filled_the_entry(
        replay: Replay, make_bars: Bars) -> None:
    candles = make_bars(FLAT, (100.0, 101.0, 94.0, 100.0), FLAT)
    _, steps = replay(candles, {0: Action.BUY}, initialCash=1000, stopLossPct=5)
    assert [t for t, _ in trading(steps[1])] == [
        "order_filled", "trade_opened", "order_submitted", "order_filled", "trade_closed"]
    assert trading(steps[1])[3][1]["price"] == 95.0


@pytest.mark.parametrize("fill", ["open", "close"])
def test_broker_signal_on_last_candle_is_submitted_and_rejected(
        replay: Replay, make_bars: Bars, fill: str) -> None:
    _, steps = replay(make_bars(FLAT, FLAT, FLAT), {2: Action.BUY}, fill=fill)
    assert trading(steps[2]) == [
        ("order_submitted", {"orderId": 1, "side": "buy", "qty": 100,
                             "reason": "scripted buy", "source": "strategy",
                             "type": "market"}),
        ("order_rejected", {"orderId": 1, "reason": END_OF_DATA}),
    ]
    assert equity(steps[2]).position_qty == 0


def test_broker_end_of_data_leaves_trade_open_marked_without_exit_fee(
        replay: Replay, make_bars: Bars) -> None:
    candles = make_bars(FLAT, FLAT, (100.0, 120.0, 100.0, 120.0))
    engine, steps = replay(candles, {0: Action.BUY}, initialCash=1000, commission=0.01)
    assert trading(steps[2]) == []
    assert equity(steps[2]).payload() == {
        "equity": 91.0 + 9 * 120.0, "cash": 91.0, "positionQty": 9,
        "unrealizedPnl": 9 * 20.0 - 9.0, "realizedPnl": 0.0, "drawdownPct": 0.0}
    stats = engine.stats()
    assert (stats["trades"], stats["finalEquity"], stats["commissions"]) == (0, 1171.0, 9.0)
    assert stats["winRatePct"] is None


def test_broker_close_at_end_closes_at_last_close_before_equity(
        replay: Replay, make_bars: Bars) -> None:
    candles = make_bars(FLAT, FLAT, (100.0, 120.0, 100.0, 120.0))
    engine, steps = replay(candles, {0: Action.BUY}, initialCash=1000, commission=0.01,
                           closeAtEnd=True)
    (_, order), (_, fill), (_, closed) = trading(steps[2])
    assert order["reason"] == "close at end of data"
    assert (fill["price"], fill["commission"]) == (120.0, pytest.approx(10.8))
    assert closed["pnl"] == pytest.approx(180.0 - 9.0 - 10.8)
    snap = equity(steps[2])
    assert (snap.position_qty, snap.cash) == (0, pytest.approx(1160.2))
    assert engine.stats()["trades"] == 1


def test_broker_slippage_moves_every_fill_against_the_trader(
        replay: Replay, make_bars: Bars) -> None:
    candles = make_bars(FLAT, FLAT, (110.0, 110.0, 110.0, 110.0))
    _, steps = replay(candles, {0: Action.BUY, 1: Action.SELL}, initialCash=1000,
                      slippageBps=100)
    assert trading(steps[1])[0][1]["price"] == pytest.approx(101.0)
    assert trading(steps[2])[0][1]["price"] == pytest.approx(108.9)


def test_broker_size_fraction_commits_part_of_equity(replay: Replay, make_bars: Bars) -> None:
    _, steps = replay(make_bars(FLAT, FLAT), {0: Action.BUY}, initialCash=1000,
                      sizeFraction=0.25, fill="close")
    assert trading(steps[0])[1][1]["qty"] == 2  # 250 // 100
    assert equity(steps[0]).cash == 800.0


def test_broker_drawdown_is_percent_below_running_peak(replay: Replay, make_bars: Bars) -> None:
    candles = make_bars(FLAT, (110.0, 110.0, 110.0, 110.0), (99.0, 99.0, 99.0, 99.0))
    _, steps = replay(candles, {0: Action.BUY}, initialCash=1000, fill="close")
    assert [equity(s).drawdown_pct for s in steps] == [0.0, 0.0, pytest.approx(10.0)]
