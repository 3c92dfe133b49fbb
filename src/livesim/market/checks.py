"""The checks every market-data entry point applies the same way (no I/O).

Symbols, timeframes, ranges and the values of one candle are checked here once, so
the CSV importer, the store, the synthetic generator, the CLI and the HTTP routes
refuse the same things with the same codes and messages.

Ranges are half-open everywhere in the market layer: ``[startMs, endMs)``, and every
``toMs`` the layer reports (markets, imports, gaps) is exclusive too: the end of the
last bar, i.e. its open time plus one timeframe.  So a ``{fromMs, toMs}`` pair can be
passed back as ``startMs``/``endMs`` unchanged.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

from livesim.errors import InvalidInput
from livesim.sim.candles import TIMEFRAMES, Candle, UnknownTimeframe, timeframe_ms

# Used with fullmatch: "$" would also match before a trailing newline.
SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,31}")
SYMBOL_HINT = "1-32 of A-Z a-z 0-9 . _ : / -, starting with a letter or digit"
# Year 10000: an open time beyond it is a unit mistake, and datetime cannot show it.
MAX_EPOCH_MS = 253_402_300_800_000
MIN_EPOCH_MS = -62_135_596_800_000  # 0001-01-01T00:00:00Z
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INF = math.inf

# One candle as a plain tuple: (ts, open, high, low, close, volume).
CandleRow = tuple[int, float, float, float, float, float]


def check_symbol(symbol: object) -> str:
    """Return ``symbol`` when it is a valid market symbol.

    Raises:
        InvalidInput: code ``invalid_symbol``.
    """
    if not isinstance(symbol, str) or not SYMBOL.fullmatch(symbol):
        raise InvalidInput(f"invalid symbol {symbol!r}: must be {SYMBOL_HINT}",
                           code="invalid_symbol",
                           details=[{"field": "symbol", "message": f"must be {SYMBOL_HINT}"}])
    return symbol


def check_timeframe(timeframe: object) -> int:
    """Return the bar length of ``timeframe`` in ms.

    Raises:
        InvalidInput: code ``unknown_timeframe``, with the valid ones in ``details``.
    """
    if isinstance(timeframe, str):
        try:
            return timeframe_ms(timeframe)
        except UnknownTimeframe:
            pass
    valid = list(TIMEFRAMES)
    raise InvalidInput(f"unknown timeframe {timeframe!r}; valid: {', '.join(valid)}",
                       code="unknown_timeframe",
                       details=[{"field": "timeframe",
                                 "message": f"must be one of {', '.join(valid)}"}],
                       context={"valid": valid})


def check_range(start_ms: int, end_ms: int) -> None:
    """Refuse an empty or reversed ``[start_ms, end_ms)`` and times beyond year 9999.

    Raises:
        InvalidInput: code ``invalid_range``.
    """
    if not (MIN_EPOCH_MS <= start_ms < end_ms <= MAX_EPOCH_MS):
        raise InvalidInput(
            f"the range [{start_ms}, {end_ms}) is empty or out of bounds: startMs must be "
            "before endMs, both epoch milliseconds between years 1 and 9999",
            code="invalid_range",
            details=[{"field": "endMs", "message": "must be after startMs, within years 1-9999"}],
            context={"startMs": start_ms, "endMs": end_ms})


def iso(ts: int) -> str:
    """``ts`` (epoch ms) as an ISO-8601 UTC datetime, for messages."""
    try:
        moment = _EPOCH + timedelta(milliseconds=ts)
    except OverflowError:
        return f"{ts} ms"
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if ts % 1000:
        text += f".{ts % 1000:03d}"
    return text + "Z"


class CandleRules:
    """What makes one candle of ``timeframe`` valid.

    Prices may be zero or negative (some futures and spreads trade there); what is
    refused is what no market produces: non-finite values, high below low, an open or
    close outside [low, high], negative volume, and an open time off the UTC grid.
    """

    def __init__(self, timeframe: str) -> None:
        self.timeframe = timeframe
        self.step = check_timeframe(timeframe)

    def is_valid(self, ts: int, open_: float, high: float, low: float, close: float,
                 volume: float) -> bool:
        """The fast test (one chained comparison); NaN fails every comparison."""
        return (ts % self.step == 0 and MIN_EPOCH_MS <= ts <= MAX_EPOCH_MS
                and -_INF < low <= open_ <= high < _INF and low <= close <= high
                and 0.0 <= volume < _INF)

    def problems(self, ts: int, open_: float, high: float, low: float, close: float,
                 volume: float) -> list[str]:
        """Every reason the candle is invalid, in words (empty when it is valid)."""
        if self.is_valid(ts, open_, high, low, close, volume):
            return []
        found = []
        if not MIN_EPOCH_MS <= ts <= MAX_EPOCH_MS:
            found.append(f"open time {ts} is outside years 1 to 9999")
        elif ts % self.step:
            found.append(f"open time {iso(ts)} is not on the {self.timeframe} grid "
                         f"(a multiple of {self.step} ms since the epoch)")
        values = {"open": open_, "high": high, "low": low, "close": close, "volume": volume}
        finite = {name: math.isfinite(value) for name, value in values.items()}
        found += [f"{name} is {value!r}, not a finite number"
                  for name, value in values.items() if not finite[name]]
        if finite["high"] and finite["low"] and high < low:
            found.append(f"high {high!r} is below low {low!r}")
        elif finite["high"] and finite["low"]:
            for name in ("open", "close"):
                if finite[name] and not low <= values[name] <= high:
                    found.append(f"{name} {values[name]!r} is outside [low, high] = "
                                 f"[{low!r}, {high!r}]")
        if finite["volume"] and volume < 0:
            found.append(f"volume {volume!r} is negative")
        return found

    def candle_problems(self, candle: Candle) -> list[str]:
        """:meth:`problems` of a :class:`Candle`."""
        return self.problems(candle.ts, candle.open, candle.high, candle.low, candle.close,
                             candle.volume)
