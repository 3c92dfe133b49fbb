"""Fixtures of the pure simulation tests (builders in :mod:`tests.support.sim`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from livesim.sim.candles import Candle
from tests.support.sim import Replay, bars, replay_script


@pytest.fixture
def replay() -> Replay:
    """``replay(candles, {index: Action}, **config) -> (engine, events per candle)``."""
    return replay_script


@pytest.fixture
def make_bars() -> Callable[..., list[Candle]]:
    """``make_bars((o, h, l, c), ...)`` → candles one minute apart."""
    return bars
