"""Candles and the fixed-length UTC timeframe grid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

# Fixed-length timeframes only: every bar of one timeframe lasts the same number of
# milliseconds and opens on a multiple of it since the epoch (the UTC grid).
TIMEFRAMES: dict[str, int] = {
    "1m": MINUTE_MS,
    "3m": 3 * MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS,
    "1h": HOUR_MS,
    "2h": 2 * HOUR_MS,
    "4h": 4 * HOUR_MS,
    "6h": 6 * HOUR_MS,
    "12h": 12 * HOUR_MS,
    "1d": DAY_MS,
}


class UnknownTimeframe(ValueError):
    """Raised for a timeframe outside :data:`TIMEFRAMES`."""

    def __init__(self, timeframe: str) -> None:
        super().__init__(f"unknown timeframe {timeframe!r}")
        self.timeframe = timeframe
        self.valid = list(TIMEFRAMES)


def timeframe_ms(timeframe: str) -> int:
    """Return the length of one bar of ``timeframe`` in milliseconds.

    Raises:
        UnknownTimeframe: the name is not one of :data:`TIMEFRAMES`.
    """
    try:
        return TIMEFRAMES[timeframe]
    except KeyError:
        raise UnknownTimeframe(timeframe) from None


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLCV bar; ``ts`` is its open time in epoch milliseconds (UTC)."""

    ts: int
    open: float
    high: float
    low: float
    close: float
    volume: float

    def to_payload(self) -> dict[str, Any]:
        return {
            "ts": self.ts,
            "open": self.open,
            "high": self.high,
            "low": self.low,
            "close": self.close,
            "volume": self.volume,
        }
