"""Market-data operations shared by the CLI and the HTTP routes.

``livesim candles import|synth`` and ``POST /api/candles/import`` call these, so both
check, parse and answer the same way: ``{symbol, timeframe, imported, unchanged,
fromMs, toMs}`` where ``[fromMs, toMs)`` spans the candles of the file (or of the
generated range), ``toMs`` exclusive.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator
from datetime import datetime
from os import PathLike
from pathlib import Path
from typing import Any

import trio

from livesim.db.bridge import Database
from livesim.errors import InvalidInput
from livesim.market.checks import CandleRow, check_range, check_symbol, check_timeframe
from livesim.market.gaps import grid_ceil
from livesim.market.importer import CsvParser, Utf8Decoder, datetime_to_ms
from livesim.market.store import open_staged_import, upsert_candles
from livesim.market.synthetic import iter_candles

# A generous ceiling: 2M bars is ~4 years of 1m; a typo in --end should not start a
# transaction that runs for an hour.
MAX_SYNTH_CANDLES = 2_000_000
# A file is read in pieces of this size: memory holds one piece and one staged batch.
READ_BYTES = 256 * 1024
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


async def import_stream(db: Database, pieces: AsyncIterable[bytes], symbol: str,
                        timeframe: str) -> dict[str, Any]:
    """Import a CSV file arriving in pieces, in bounded memory, all or nothing.

    Each piece is decoded and parsed in a worker thread (a large file is seconds of
    CPU; the event loop keeps pacing running sessions meanwhile) and its valid rows are
    staged in the import's transaction; once any row is invalid nothing more is staged
    but the rest is still read, so the answer lists every bad line.  Then repeats are
    checked and the rows merged (:class:`~livesim.market.store.StagedImport`).

    Raises:
        InvalidInput: bad symbol, timeframe, encoding, header or rows (nothing written).
        Conflict: ``market_in_use``.
    """
    check_symbol(symbol)
    step = check_timeframe(timeframe)
    decoder, parser = Utf8Decoder(), CsvParser(timeframe)

    def parse(piece: bytes, final: bool) -> list[tuple[int, CandleRow]]:
        rows = parser.feed(decoder.decode(piece, final=final))
        return rows + parser.close() if final else rows

    async with open_staged_import(db, symbol, timeframe) as staged:
        async for piece in pieces:
            rows = await trio.to_thread.run_sync(parse, piece, False)
            if not parser.errors.count:
                await staged.add(rows)
        await staged.add(await trio.to_thread.run_sync(parse, b"", True))
        result = await staged.finish(parser.layout, may_repeat=not parser.increasing)
    return {"symbol": symbol, "timeframe": timeframe, "imported": result.imported,
            "unchanged": result.unchanged, "fromMs": result.first_ts,
            "toMs": result.last_ts + step}


async def import_csv(db: Database, data: bytes, symbol: str, timeframe: str) -> dict[str, Any]:
    """:func:`import_stream` of a file already in memory."""
    return await import_stream(db, _one(data), symbol, timeframe)


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


def check_readable(path: str | PathLike[str]) -> Path:
    """``path`` when it is a file this process can read (checked before any work starts).

    Raises:
        InvalidInput: ``unreadable_file``.
    """
    try:
        with open(path, "rb"):
            pass
    except OSError as error:
        raise InvalidInput(f"cannot read {str(path)!r}: {error.strerror or error}",
                           code="unreadable_file", details={"path": str(path)}) from None
    return Path(path)


async def import_file(db: Database, path: str | PathLike[str], symbol: str,
                      timeframe: str) -> dict[str, Any]:
    """Import the CSV file at ``path``, read in pieces of :data:`READ_BYTES`
    (see :func:`import_stream`).

    Raises:
        InvalidInput: ``unreadable_file`` when the file cannot be read, or any error
            of :func:`import_stream`.
    """
    check_symbol(symbol)
    check_timeframe(timeframe)
    check_readable(path)
    async with await trio.open_file(path, "rb") as file:
        return await import_stream(db, _pieces(file), symbol, timeframe)


async def _pieces(file: trio.abc.AsyncResource) -> AsyncIterator[bytes]:
    while piece := await file.read(READ_BYTES):  # type: ignore[attr-defined]
        yield piece


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


def synthesize_csv(path: str | PathLike[str], symbol: str, timeframe: str, start_ms: int,
                   end_ms: int, seed: int) -> dict[str, Any]:
    """Write the seeded synthetic market of ``[start_ms, end_ms)`` to a CSV file.

    The file has a ``time,open,high,low,close,volume`` header, epoch-ms times and
    floats written exactly (``repr``), so importing it stores the same candles as
    :func:`synthesize`.  Written row by row: any length fits in constant memory.

    Raises:
        InvalidInput: bad symbol, timeframe or range; ``empty_range``;
            ``unwritable_file``.
    """
    check_symbol(symbol)
    step = check_timeframe(timeframe)
    check_range(start_ms, end_ms)
    count = 0
    first = grid_ceil(start_ms, step)
    try:
        with open(path, "w", newline="") as file:
            file.write("time,open,high,low,close,volume\n")
            for c in iter_candles(timeframe, start_ms, end_ms, seed):
                file.write(f"{c.ts},{c.open!r},{c.high!r},{c.low!r},{c.close!r},{c.volume!r}\n")
                count += 1
    except OSError as error:
        raise InvalidInput(f"cannot write {str(path)!r}: {error.strerror or error}",
                           code="unwritable_file", details={"path": str(path)}) from None
    if count == 0:
        raise InvalidInput(f"no {timeframe} bar opens in [{start_ms}, {end_ms})",
                           code="empty_range", details={"startMs": start_ms, "endMs": end_ms})
    return {"symbol": symbol, "timeframe": timeframe, "seed": seed, "file": str(path),
            "candles": count, "fromMs": first, "toMs": first + count * step}
