"""Hand-made builders for candle series and session plans (no mocks)."""

from __future__ import annotations

import random
from typing import Any

from livesim.runner.session import SessionPlan
from livesim.sim.candles import Candle, timeframe_ms

START_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z


def candle_series(count: int, *, timeframe: str = "1m", start_ms: int = START_MS,
                  seed: int = 7, price: float = 100.0) -> list[Candle]:
    """A seeded random walk with consistent OHLC on the timeframe's grid."""
    rng = random.Random(seed)
    step = timeframe_ms(timeframe)
    candles = []
    for index in range(count):
        open_ = price
        price = max(1.0, price * (1 + rng.gauss(0, 0.01)))
        high = max(open_, price) * (1 + rng.random() * 0.003)
        low = min(open_, price) * (1 - rng.random() * 0.003)
        candles.append(Candle(start_ms + index * step, round(open_, 4), round(high, 4),
                              round(low, 4), round(price, 4), round(10 + rng.random() * 5, 3)))
    return candles


def session_plan(candles: list[Candle], *, session_id: str = "s-1", timeframe: str = "1m",
                 profile_slug: str = "sma-cross", config: dict[str, Any] | None = None
                 ) -> SessionPlan:
    step = timeframe_ms(timeframe)
    return SessionPlan(
        session_id=session_id, profile_slug=profile_slug, symbol="TEST", timeframe=timeframe,
        start_ms=candles[0].ts, end_ms=candles[-1].ts + step,
        config=config if config is not None else {"fast": 3, "slow": 8}, gap_policy="fail",
        candles=candles)
