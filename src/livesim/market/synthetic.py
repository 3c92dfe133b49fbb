"""A seeded synthetic market for demos and tests (no I/O).

Prices follow a geometric random walk on the timeframe's UTC grid: each bar opens at
the previous close, its log-return is normal with a volatility scaled to the bar
length, and its wicks extend beyond the body by half-normal amounts, so
``low <= min(open, close) <= max(open, close) <= high`` always holds.  Volume is
log-normal and grows with the size of the move, and is always positive.

Determinism: everything comes from one ``random.Random(seed)`` consumed in bar order,
and values are rounded to a fixed number of decimals, so the same (seed, timeframe,
start, parameters) give the same candles bit for bit, and a longer range extends a
shorter one without changing it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

from livesim.market.checks import check_range, check_timeframe
from livesim.market.gaps import grid_ceil
from livesim.sim.candles import DAY_MS, Candle

YEAR_MS = 365 * DAY_MS
DEFAULT_START_PRICE = 100.0
DEFAULT_ANNUAL_VOLATILITY = 0.6  # crypto-like
BASE_VOLUME = 10.0
SIGNIFICANT_DIGITS = 6  # of the start price; later prices keep the same decimals


def iter_candles(timeframe: str, start_ms: int, end_ms: int, seed: int, *,
                 start_price: float = DEFAULT_START_PRICE,
                 annual_volatility: float = DEFAULT_ANNUAL_VOLATILITY) -> Iterator[Candle]:
    """Yield the synthetic candles with ``start_ms <= ts < end_ms``, one by one.

    Args:
        timeframe: one of :data:`livesim.sim.candles.TIMEFRAMES`.
        start_ms: the walk starts at the first grid time at or after it.
        end_ms: exclusive end.
        seed: any integer; the same seed gives the same candles.
        start_price: the first open (positive).
        annual_volatility: standard deviation of yearly log-returns (0 to 5).

    Raises:
        InvalidInput: unknown timeframe or empty range.
        ValueError: a parameter is out of range.
    """
    step = check_timeframe(timeframe)
    check_range(start_ms, end_ms)
    if not (math.isfinite(start_price) and start_price > 0):
        raise ValueError(f"start_price must be a positive number, got {start_price!r}")
    if not 0 <= annual_volatility <= 5:
        raise ValueError(f"annual_volatility must be from 0 to 5, got {annual_volatility!r}")
    rng = random.Random(seed)
    sigma = annual_volatility * math.sqrt(step / YEAR_MS)
    decimals = max(0, SIGNIFICANT_DIGITS - 1 - math.floor(math.log10(start_price)))
    tick = 10.0 ** -decimals
    close = round(start_price, decimals)
    for ts in range(grid_ceil(start_ms, step), end_ms, step):
        open_ = close
        move = rng.gauss(0.0, sigma)
        # Never below one tick: a walk rounded to zero would stay there forever.
        close = max(tick, round(open_ * math.exp(move), decimals))
        high = round(max(open_, close) * math.exp(abs(rng.gauss(0.0, sigma / 2))), decimals)
        low = max(tick, round(min(open_, close) * math.exp(-abs(rng.gauss(0.0, sigma / 2))),
                              decimals))
        surprise = abs(move) / sigma if sigma else 0.0
        volume = round(BASE_VOLUME * math.exp(rng.gauss(0.0, 0.5)) * (1.0 + surprise), 3)
        yield Candle(ts, open_, high, min(low, open_, close), close, max(volume, 0.001))


def generate_candles(timeframe: str, start_ms: int, end_ms: int, seed: int = 1, *,
                     start_price: float = DEFAULT_START_PRICE,
                     annual_volatility: float = DEFAULT_ANNUAL_VOLATILITY) -> list[Candle]:
    """The synthetic candles of ``[start_ms, end_ms)`` as a list (see :func:`iter_candles`)."""
    return list(iter_candles(timeframe, start_ms, end_ms, seed, start_price=start_price,
                             annual_volatility=annual_volatility))
