"""Market-data operations shared by the CLI and the HTTP routes.

``livesim candles import|synth`` and ``POST /api/candles/import`` call these, so both
check, parse and answer the same way: ``{symbol, timeframe, imported, unchanged,
fromMs, toMs}`` where ``[fromMs, toMs)`` spans the candles of the file (or of the
generated range), ``toMs`` exclusive.
"""

from __future__ import annotations

import re
from datetime import datetime
from os import PathLike
from typing import Any

import trio

from livesim.db.bridge import Database
from livesim.errors import InvalidInput
from livesim.market.checks import check_range, check_symbol, check_timeframe
from livesim.market.gaps import grid_ceil
from livesim.market.importer import ParsedCsv, datetime_to_ms, decode_csv, parse_csv
from livesim.market.store import upsert_candles, upsert_rows
from livesim.market.synthetic import iter_candles

# A generous ceiling: 2M bars is ~4 years of 1m; a typo in --end should not start a
# transaction that runs for an hour.
MAX_SYNTH_CANDLES = 2_000_000
_EPOCH_MS = re.compile(r"-?[0-9]{1,19}")


def parse_time(text: str) -> int:
    """A time given on the command line, as epoch ms.

    Accepts an ISO-8601 date or datetime (UTC unless it carries an offset, which is
    converted) such as ``2024-01-01``, ``2024-01-01T12:00`` or
    ``2024-01-01T12:00:00+02:00``, or a whole number of epoch milliseconds.

    Raises:
        InvalidInput: code ``invalid_time``.
    """
    stripped = text.strip()
    if _EPOCH_MS.fullmatch(stripped):
        return int(stripped)
    try:
        return datetime_to_ms(datetime.fromisoformat(stripped))
    except ValueError:
        raise InvalidInput(
            f"{text!r} is not a time: use an ISO date or datetime such as 2024-01-01 or "
            "2024-01-01T12:00:00Z (UTC unless an offset is given), or epoch milliseconds",
            code="invalid_time", details={"value": text}) from None


async def import_csv(db: Database, data: bytes, symbol: str, timeframe: str) -> dict[str, Any]:
    """Parse a whole CSV file and upsert its candles in one transaction.

    Parsing runs in a worker thread: a large file takes seconds of CPU, and the
    event loop keeps pacing running sessions meanwhile.

    Raises:
        InvalidInput: bad symbol, timeframe, encoding, header or rows (nothing written).
    """
    check_symbol(symbol)
    step = check_timeframe(timeframe)
    parsed = await trio.to_thread.run_sync(_parse, data, timeframe)
    upserted = await upsert_rows(db, symbol, timeframe, parsed.rows)
    return {"symbol": symbol, "timeframe": timeframe, "imported": upserted.imported,
            "unchanged": upserted.unchanged, "fromMs": parsed.rows[0][0],
            "toMs": parsed.rows[-1][0] + step}


def _parse(data: bytes, timeframe: str) -> ParsedCsv:
    return parse_csv(decode_csv(data), timeframe)


async def import_file(db: Database, path: str | PathLike[str], symbol: str,
                      timeframe: str) -> dict[str, Any]:
    """Import the CSV file at ``path`` (see :func:`import_csv`).

    Raises:
        InvalidInput: ``unreadable_file`` when the file cannot be read, or any error
            of :func:`import_csv`.
    """
    check_symbol(symbol)
    check_timeframe(timeframe)
    try:
        data = await trio.Path(path).read_bytes()
    except OSError as error:
        raise InvalidInput(f"cannot read {str(path)!r}: {error.strerror or error}",
                           code="unreadable_file", details={"path": str(path)}) from None
    return await import_csv(db, data, symbol, timeframe)


async def synthesize(db: Database, symbol: str, timeframe: str, start_ms: int, end_ms: int,
                     seed: int) -> dict[str, Any]:
    """Generate the seeded synthetic market of ``[start_ms, end_ms)`` and upsert it.

    Running it again with the same arguments changes nothing (all ``unchanged``).

    Raises:
        InvalidInput: bad symbol, timeframe or range; ``too_many_candles`` beyond
            :data:`MAX_SYNTH_CANDLES`; ``empty_range`` when no bar opens in the range.
    """
    check_symbol(symbol)
    step = check_timeframe(timeframe)
    check_range(start_ms, end_ms)
    first = grid_ceil(start_ms, step)
    count = max(0, -(-(end_ms - first) // step))
    if count == 0:
        raise InvalidInput(f"no {timeframe} bar opens in [{start_ms}, {end_ms})",
                           code="empty_range", details={"startMs": start_ms, "endMs": end_ms})
    if count > MAX_SYNTH_CANDLES:
        raise InvalidInput(
            f"the range holds {count} {timeframe} bars; at most {MAX_SYNTH_CANDLES} per "
            "call: split it", code="too_many_candles",
            details={"count": count, "max": MAX_SYNTH_CANDLES})
    upserted = await upsert_candles(db, symbol, timeframe,
                                    iter_candles(timeframe, start_ms, end_ms, seed))
    return {"symbol": symbol, "timeframe": timeframe, "seed": seed,
            "imported": upserted.imported, "unchanged": upserted.unchanged,
            "fromMs": first, "toMs": first + count * step}
