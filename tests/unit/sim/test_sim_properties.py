"""Properties over random candle series and random configs (hypothesis).

* equity == cash + positionQty × close at every candle, and
  equity ≈ initialCash + realizedPnl + unrealizedPnl;
* long-only with sizeFraction ≤ 1 never drives cash below zero;
* the sum of closed-trade pnl equals realizedPnl;
* every order is resolved (filled or rejected) exactly once by the end;
* the same input gives the same events, all canonical-JSON encodable.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

from livesim.sim.candles import Candle
from livesim.sim.engine import build_engine
from livesim.sim.events import EquitySnapshot, Event, canonical_json
from tests.support.sim import candle_series, configs


def replay(slug: str, config: dict[str, Any], candles: list[Candle]) -> list[list[Event]]:
    engine = build_engine(slug, config, timeframe="5m", candle_count=len(candles))
    return [engine.step(candle) for candle in candles]


@settings(max_examples=150, deadline=None)
@given(candle_series(), configs())
def test_engine_random_series_keeps_account_invariants(
        candles: list[Candle], slug_config: tuple[str, dict[str, Any]]) -> None:
    slug, config = slug_config
    steps = replay(slug, config, candles)
    closed_pnl = 0.0
    submitted: list[int] = []
    resolved: list[int] = []
    for candle, events in zip(candles, steps, strict=True):
        for event in events:
            payload = event.payload()
            if event.type == "trade_closed":
                closed_pnl += payload["pnl"]
            elif event.type == "order_submitted":
                submitted.append(payload["orderId"])
            elif event.type in ("order_filled", "order_rejected"):
                resolved.append(payload["orderId"])
        snap = events[-1]
        assert isinstance(snap, EquitySnapshot)
        assert snap.equity == snap.cash + snap.position_qty * candle.close
        assert snap.equity == pytest.approx(
            config["initialCash"] + snap.realized_pnl + snap.unrealized_pnl,
            rel=1e-9, abs=1e-9 * config["initialCash"])
        assert snap.realized_pnl == closed_pnl
        assert snap.drawdown_pct >= 0.0
        if not config["allowShort"]:
            assert snap.position_qty >= 0
            assert snap.cash >= 0.0
        if config["closeAtEnd"] and candle is candles[-1]:
            assert snap.position_qty == 0
    assert sorted(resolved) == submitted  # each order filled or rejected exactly once


@settings(max_examples=40, deadline=None)
@given(candle_series(), configs())
def test_engine_same_input_gives_same_canonical_events(
        candles: list[Candle], slug_config: tuple[str, dict[str, Any]]) -> None:
    slug, config = slug_config

    def log() -> list[tuple[int, str, str]]:
        return [(e.ts, e.type, canonical_json(e.payload()))
                for events in replay(slug, config, candles) for e in events]

    assert log() == log()
