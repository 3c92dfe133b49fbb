"""Builders for the pure simulation tests: candles, scripted strategies, replays."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from livesim.sim.candles import Candle
from livesim.sim.engine import SessionEngine, build_engine
from livesim.sim.events import Event
from livesim.sim.inputs import Input
from livesim.sim.intents import Action, OrderIntent
from livesim.sim.profiles import resolve_config

MINUTE_MS = 60_000


class Scripted:
    """A strategy that emits the given actions (or whole intents) at candle indexes."""

    def __init__(self, script: Mapping[int, Action | OrderIntent]) -> None:
        self.script = script
        self.index = 0

    def on_candle(self, candle: Candle) -> list[OrderIntent]:
        action = self.script.get(self.index)
        self.index += 1
        if action is None:
            return []
        if isinstance(action, OrderIntent):
            return [action]
        return [OrderIntent(action, f"scripted {action}")]


Replay = Callable[..., tuple[SessionEngine, list[list[Event]]]]


def bars(*ohlc: tuple[float, float, float, float]) -> list[Candle]:
    """Candles one minute apart from (open, high, low, close) tuples."""
    return [Candle(i * MINUTE_MS, o, h, lo, c, 1.0) for i, (o, h, lo, c) in enumerate(ohlc)]


def _replay(candles: Sequence[Candle], script: Mapping[int, Action | OrderIntent],
            inputs: Mapping[int, Sequence[Input]] | None = None,
            **overrides: Any) -> tuple[SessionEngine, list[list[Event]]]:
    config = resolve_config("buy-and-hold", overrides)
    engine = SessionEngine(config, Scripted(script), timeframe="1m",
                           candle_count=len(candles))
    feed = inputs or {}
    return engine, [engine.step(candle, feed.get(i, ())) for i, candle in enumerate(candles)]


def trade_manually(candles: Sequence[Candle], inputs: Mapping[int, Sequence[Input]],
                   **overrides: Any) -> tuple[SessionEngine, list[list[Event]]]:
    """Replay ``candles`` under the ``manual`` profile with ``{index: [inputs]}``."""
    engine = build_engine("manual", overrides, timeframe="1m", candle_count=len(candles))
    return engine, [engine.step(candle, inputs.get(i, ())) for i, candle in enumerate(candles)]


@pytest.fixture
def replay() -> Replay:
    """``replay(candles, {index: Action}, **config) -> (engine, events per candle)``."""
    return _replay


@pytest.fixture
def make_bars() -> Callable[..., list[Candle]]:
    """``make_bars((o, h, l, c), ...)`` → candles one minute apart."""
    return bars
