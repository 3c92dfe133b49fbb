"""Coarser candles made from finer ones, on the fly (no I/O).

A market stored at 1m can be replayed at 5m, 15m, 1h, ...: every timeframe of
:data:`~livesim.sim.candles.TIMEFRAMES` is a fixed length on the UTC epoch grid, so a
coarser bar whose length is a whole multiple of the finer one covers exactly
``coarse // fine`` finer bars.  The coarse bar is

- ``ts``: the bucket's open time (``fine.ts // coarse * coarse``),
- ``open`` of its first finer bar, ``high`` the max, ``low`` the min, ``close`` of its
  last bar, ``volume`` the sum (added in ts order, so the float result is the same
  on every run);

like pandas' ``resample(rule, label="left", closed="left")`` with first/max/min/last/sum.
A bucket with **any** finer bar missing is not made at all: it is a gap of the coarse
market, and the session's gap policy decides (``fail`` refuses, ``skip`` replays
around it), exactly as for a bar missing from a market stored at that timeframe.
"""

from __future__ import annotations

from collections.abc import Iterable

from livesim.market.checks import CandleRow
from livesim.sim.candles import TIMEFRAMES, Candle


def finer_sources(timeframe: str) -> list[str]:
    """The timeframes ``timeframe`` can be made from, coarsest (fewest rows) first."""
    step = TIMEFRAMES[timeframe]
    finer = [name for name, length in TIMEFRAMES.items() if length < step and step % length == 0]
    return sorted(finer, key=TIMEFRAMES.__getitem__, reverse=True)


def coarser_targets(timeframe: str) -> list[str]:
    """The timeframes that can be made from ``timeframe`` (itself included)."""
    step = TIMEFRAMES[timeframe]
    return [name for name, length in TIMEFRAMES.items() if length % step == 0]


def aggregate(rows: Iterable[CandleRow], source_ms: int, target_ms: int) -> list[Candle]:
    """The complete ``target_ms`` bars made of ``source_ms`` rows.

    Args:
        rows: ``(ts, open, high, low, close, volume)`` in strictly increasing ts
            order, on the ``source_ms`` grid.
        source_ms: the finer bar length.
        target_ms: the coarser bar length, a whole multiple of ``source_ms``.

    Returns:
        One candle per bucket that has all of its ``target_ms // source_ms`` rows, in
        ts order; incomplete buckets are left out (gaps).
    """
    if target_ms % source_ms:
        raise ValueError(f"{target_ms} ms bars cannot be made of {source_ms} ms bars")
    needed = target_ms // source_ms
    out: list[Candle] = []
    bucket = -1
    count = 0
    open_ = high = low = close = volume = 0.0
    for ts, o, h, lo, c, v in rows:
        start = ts - ts % target_ms
        if start != bucket:
            if count == needed:
                out.append(Candle(bucket, open_, high, low, close, volume))
            bucket, count = start, 0
            open_, high, low, volume = o, h, lo, 0.0
        elif h > high:
            high = h
        if lo < low:
            low = lo
        close = c
        volume += v
        count += 1
    if count == needed:
        out.append(Candle(bucket, open_, high, low, close, volume))
    return out
