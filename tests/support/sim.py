"""Builders for the pure simulation tests: candles, scripted strategies, replays, and
hypothesis strategies for random candle series and configs."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

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


def replay_script(candles: Sequence[Candle], script: Mapping[int, Action | OrderIntent],
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


# Short periods so that short series still trade a lot.
PROFILE_KEYS: dict[str, dict[str, Any]] = {
    "sma-cross": {"fast": 2, "slow": 5},
    "rsi-reversion": {"period": 3, "oversold": 40.0, "overbought": 60.0},
    "donchian-breakout": {"entryPeriod": 3, "exitPeriod": 2},
    "buy-and-hold": {},
}

_bar = st.tuples(
    st.floats(-0.08, 0.08),  # gap from the previous close to this open
    st.floats(-0.1, 0.1),  # open → close
    st.floats(0.0, 0.05),  # upper wick
    st.floats(0.0, 0.05),  # lower wick
)


@st.composite
def candle_series(draw: st.DrawFn) -> list[Candle]:
    # Draw the length first: plain st.lists() favours very short series.
    size = draw(st.integers(1, 80))
    moves = draw(st.lists(_bar, min_size=size, max_size=size))
    price = draw(st.sampled_from([0.37, 12.5, 100.0, 25_000.0]))
    out = []
    for i, (gap, body, up, down) in enumerate(moves):
        open_ = price * (1.0 + gap)
        close = open_ * (1.0 + body)
        out.append(Candle(i * 300_000, open_, max(open_, close) * (1.0 + up),
                          min(open_, close) * (1.0 - down), close, 1.0))
        price = close
    return out


@st.composite
def configs(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    slug = draw(st.sampled_from(sorted(PROFILE_KEYS)))
    maybe_pct = st.none() | st.floats(0.5, 20.0)
    config = {
        **PROFILE_KEYS[slug],
        "initialCash": draw(st.sampled_from([10.0, 1_000.0, 10_000.0])),
        "commission": draw(st.sampled_from([0.0, 0.001, 0.01])),
        "slippageBps": draw(st.sampled_from([0.0, 5.0, 50.0])),
        "sizeFraction": draw(st.floats(0.05, 1.0)),
        "fractional": draw(st.booleans()),
        "allowShort": draw(st.booleans()),
        "fill": draw(st.sampled_from(["open", "close"])),
        "stopLossPct": draw(maybe_pct),
        "takeProfitPct": draw(maybe_pct),
        "closeAtEnd": draw(st.booleans()),
    }
    return slug, config
