"""Holes in a market: expected open times of the UTC grid that have no candle (no I/O).

The expected open times of ``[start_ms, end_ms)`` are the multiples of the bar length
from ``start_ms`` rounded up to the grid, while they are before ``end_ms``.  A gap is
a maximal run of consecutive expected times without a candle, reported as
``{"fromMs", "toMs", "missing"}`` where ``fromMs`` is the first missing open time and
``toMs`` is exclusive: the end of the last missing bar (its open time plus one bar),
so ``toMs - fromMs == missing * bar`` and ``[fromMs, toMs)`` is the range to re-fetch.
"""

from __future__ import annotations

from collections.abc import Iterable

from livesim.market.checks import check_timeframe

Gap = dict[str, int]


def grid_ceil(ts: int, step: int) -> int:
    """The first open time of the grid at or after ``ts``."""
    return -(-ts // step) * step


def find_gaps(timestamps: Iterable[int], timeframe: str, start_ms: int,
              end_ms: int) -> list[Gap]:
    """Return the gaps of ``[start_ms, end_ms)`` given the open times that exist.

    Args:
        timestamps: open times present, ascending (duplicates and times off the grid
            are tolerated: they fill nothing).
        timeframe: one of :data:`livesim.sim.candles.TIMEFRAMES`.
        start_ms: inclusive start of the range; rounded up to the grid.
        end_ms: exclusive end of the range.

    Returns:
        The gaps in time order; an empty list when every expected bar exists.
    """
    step = check_timeframe(timeframe)
    gaps: list[Gap] = []
    expected = grid_ceil(start_ms, step)  # the next open time not yet accounted for
    for ts in timestamps:
        if ts >= end_ms:
            break
        if ts < expected:
            continue
        on_or_after = grid_ceil(ts, step)
        if on_or_after > expected:
            _add(gaps, expected, on_or_after, step)
        # a candle on the grid fills its slot; one off the grid fills nothing
        expected = on_or_after + step if on_or_after == ts else on_or_after
    if expected < end_ms:
        _add(gaps, expected, grid_ceil(end_ms, step), step)
    return gaps


def _add(gaps: list[Gap], from_ms: int, to_ms: int, step: int) -> None:
    gaps.append({"fromMs": from_ms, "toMs": to_ms, "missing": (to_ms - from_ms) // step})
