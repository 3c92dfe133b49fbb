"""The engine contract the runner relies on: ordering, timestamps, determinism."""

from __future__ import annotations

import random

import pytest

from livesim.sim.candles import Candle
from livesim.sim.engine import build_engine
from livesim.sim.events import CandleClosed, EquitySnapshot, Event, canonical_json, log_digest
from livesim.sim.profiles import PROFILES


def walk(n: int, seed: int = 7, step_ms: int = 60_000) -> list[Candle]:
    rng = random.Random(seed)
    price = 100.0
    out = []
    for i in range(n):
        open_ = price
        close = max(1.0, open_ * (1.0 + rng.gauss(0.0, 0.02)))
        out.append(Candle(i * step_ms, open_, max(open_, close) * 1.01,
                          min(open_, close) * 0.99, close, 5.0))
        price = close
    return out


def replay(slug: str, overrides: dict[str, object], candles: list[Candle]) -> list[Event]:
    engine = build_engine(slug, overrides, timeframe="1m", candle_count=len(candles))
    return [event for candle in candles for event in engine.step(candle)]


@pytest.mark.parametrize("slug", sorted(PROFILES))
def test_engine_every_profile_orders_candle_first_and_equity_last(slug: str) -> None:
    candles = walk(400)
    engine = build_engine(slug, {"allowShort": True}, timeframe="1m",
                          candle_count=len(candles))
    for candle in candles:
        events = engine.step(candle)
        assert isinstance(events[0], CandleClosed)
        assert isinstance(events[-1], EquitySnapshot)
        assert sum(isinstance(e, EquitySnapshot) for e in events) == 1
        assert all(e.ts == candle.ts for e in events)
        for event in events:
            canonical_json(event.payload())
    canonical_json(engine.stats())


@pytest.mark.parametrize("slug", sorted(PROFILES))
def test_engine_same_input_twice_gives_same_log_digest(slug: str) -> None:
    candles = walk(300, seed=3)
    overrides: dict[str, object] = {"commission": 0.001, "stopLossPct": 3.0}

    def digest() -> str:
        events = replay(slug, overrides, candles)
        return log_digest((i, e.ts, e.type, e.payload()) for i, e in enumerate(events))

    assert digest() == digest()


def test_engine_step_past_candle_count_raises() -> None:
    engine = build_engine("buy-and-hold", {}, timeframe="1m", candle_count=1)
    engine.step(walk(1)[0])
    with pytest.raises(ValueError, match="candle_count"):
        engine.step(walk(2)[1])


def test_engine_config_is_resolved_defaults_merged_with_overrides() -> None:
    engine = build_engine("sma-cross", {"fast": 5}, timeframe="1h", candle_count=10)
    assert engine.config["fast"] == 5
    assert engine.config["slow"] == 30
    assert engine.config["initialCash"] == 10_000.0
