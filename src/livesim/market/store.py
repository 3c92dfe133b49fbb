"""The candle store: load a range with its gaps, upsert candles, list markets.

Every statement lives in ``sql/queries/candles.sql``.  Writes go in batches of
:data:`BATCH_ROWS` rows (one ``INSERT ... SELECT FROM unnest(...)`` each, a whole unit
of work per crossing of the trio-asyncio bridge) inside one transaction, so an import
is all or nothing.  Rows whose values did not change are not rewritten, which makes a
re-import a no-op reported as ``unchanged``.

Every ``toMs`` here is exclusive: the last open time plus one bar (see
:mod:`livesim.market.checks`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from itertools import islice, starmap
from typing import Any, NamedTuple

from livesim.db.bridge import Database, Executor
from livesim.errors import Conflict, InvalidInput, NotFound
from livesim.market.aggregate import aggregate, coarser_targets, finer_sources
from livesim.market.checks import (
    MIN_EPOCH_MS,
    CandleRow,
    CandleRules,
    check_range,
    check_symbol,
    iso,
)
from livesim.market.gaps import Gap, find_gaps, grid_ceil
from livesim.market.importer import MAX_REPORTED_ERRORS, RowErrors, repeat_message
from livesim.sim.candles import TIMEFRAMES, Candle, timeframe_ms

BATCH_ROWS = 5_000


class NoCandles(NotFound):
    """The market has no candle in the requested range (or none at all)."""

    code = "no_candles"


class TooManyCandles(InvalidInput):
    """The requested range holds more candles than the caller accepts."""

    code = "too_many_candles"


@dataclass(frozen=True, slots=True)
class CandleSet:
    """The candles of ``[start_ms, end_ms)`` in ts order, and the gaps between them."""

    symbol: str
    timeframe: str
    start_ms: int
    end_ms: int
    candles: list[Candle]
    gaps: list[Gap] = field(default_factory=list)
    # the stored timeframe the candles come from: ``timeframe`` itself, or a finer one
    # they were aggregated from (see livesim.market.aggregate)
    source_timeframe: str = ""

    def __post_init__(self) -> None:
        if not self.source_timeframe:
            object.__setattr__(self, "source_timeframe", self.timeframe)


class Upserted(NamedTuple):
    """What an upsert did: rows inserted or changed, and rows already identical."""

    imported: int
    unchanged: int


@dataclass(frozen=True, slots=True)
class Market:
    """One stored (symbol, timeframe) series."""

    symbol: str
    timeframe: str
    from_ms: int  # first open time
    to_ms: int  # exclusive: last open time plus one bar
    count: int

    def to_json(self) -> dict[str, Any]:
        """The API's camelCase form."""
        return {"symbol": self.symbol, "timeframe": self.timeframe, "fromMs": self.from_ms,
                "toMs": self.to_ms, "count": self.count}


async def load_candles(db: Executor, symbol: str, timeframe: str, start_ms: int, end_ms: int,
                       *, max_candles: int | None = None) -> CandleSet:
    """Load the candles with ``start_ms <= ts < end_ms`` and the gaps of that range.

    Args:
        max_candles: refuse a range holding more candles than this (None: no limit).

    Raises:
        InvalidInput: bad symbol (``invalid_symbol``), timeframe (``unknown_timeframe``)
            or range (``invalid_range``).
        NoCandles: 404 ``no_candles``: not one candle in the range; ``details`` lists
            what the market holds, if anything, to help pick a range.
        TooManyCandles: 400 ``too_many_candles``, with ``suggestedEndMs``: an
            ``endMs`` that brings the range down to ``max_candles``.
    """
    check_symbol(symbol)
    rules = CandleRules(timeframe)
    check_range(start_ms, end_ms)
    limit = None if max_candles is None else max_candles + 1
    source = timeframe
    rows = await db.run("select-candles", symbol=symbol, timeframe=timeframe,
                        start_ms=start_ms, end_ms=end_ms, max_rows=limit)
    if rows:
        # asyncpg records are sequences in column order: ts, open, high, low, close, volume
        candles = list(starmap(Candle, rows))
    else:
        source, candles, limit_hit = await _load_derived(db, symbol, timeframe, start_ms,
                                                         end_ms, limit)
        if limit_hit and max_candles is not None and len(candles) <= max_candles:
            # the finer rows ran out before the buckets did: never answer a cut range
            raise TooManyCandles(
                f"the range holds more than {max_candles} candles; narrow it (an endMs of "
                f"{candles[-1].ts} fits)",
                details={"max": max_candles, "suggestedEndMs": candles[-1].ts})
    if not candles:
        market = await get_market(db, symbol, timeframe)
        held = (f"it holds {market.count} candle(s) in [{market.from_ms}, {market.to_ms})"
                if market else "it holds no candles at all")
        raise NoCandles(
            f"no {symbol} {timeframe} candles in [{start_ms}, {end_ms}) "
            f"({iso(start_ms)} to {iso(end_ms)}); {held}",
            details={"symbol": symbol, "timeframe": timeframe, "startMs": start_ms,
                     "endMs": end_ms, "market": market.to_json() if market else None})
    if max_candles is not None and len(candles) > max_candles:
        end = candles[max_candles].ts
        raise TooManyCandles(
            f"the range holds more than {max_candles} candles; narrow it (an endMs of "
            f"{end} gives exactly {max_candles})",
            details={"max": max_candles, "suggestedEndMs": end})
    return CandleSet(symbol, timeframe, start_ms, end_ms, candles,
                     find_gaps([candle.ts for candle in candles], rules.timeframe, start_ms,
                               end_ms), source)


async def _load_derived(db: Executor, symbol: str, timeframe: str, start_ms: int,
                        end_ms: int, limit: int | None) -> tuple[str, list[Candle], bool]:
    # No candle stored at this timeframe: make them from the coarsest finer timeframe
    # that has candles in the range (see livesim.market.aggregate).
    sources = finer_sources(timeframe)
    if not sources:
        return timeframe, [], False
    step = TIMEFRAMES[timeframe]
    # whole buckets: from the first bucket opening in the range to the end of the last
    first, end = grid_ceil(start_ms, step), grid_ceil(end_ms, step)
    if first >= end:
        return timeframe, [], False
    found = await db.run("select-stored-timeframes", symbol=symbol, timeframes=sources,
                         start_ms=first, end_ms=end)
    stored = {row["timeframe"] for row in found}
    source = next((name for name in sources if name in stored), None)
    if source is None:
        return timeframe, [], False
    ratio = step // TIMEFRAMES[source]
    max_rows = None if limit is None else limit * ratio
    rows = await db.run("select-candles", symbol=symbol, timeframe=source, start_ms=first,
                        end_ms=end, max_rows=max_rows)
    candles = aggregate(rows, TIMEFRAMES[source], step)
    return source, candles, max_rows is not None and len(rows) >= max_rows


async def upsert_candles(db: Database, symbol: str, timeframe: str,
                         candles: Iterable[Candle], *, batch_rows: int = BATCH_ROWS
                         ) -> Upserted:
    """Insert or update candles of one market in one transaction: all or nothing.

    ``candles`` must come in strictly increasing ts order (the importer sorts and
    de-duplicates; the generator yields in order); it may be a lazy iterable, which
    is consumed batch by batch, so memory stays bounded by one batch.

    Raises:
        InvalidInput: bad symbol or timeframe; ``invalid_candle`` for a candle that
            breaks :class:`~livesim.market.checks.CandleRules` or the order (nothing is
            written).
    """
    rows = ((c.ts, c.open, c.high, c.low, c.close, c.volume) for c in candles)
    return await upsert_rows(db, symbol, timeframe, rows, batch_rows=batch_rows)


async def upsert_rows(db: Database, symbol: str, timeframe: str, rows: Iterable[CandleRow],
                      *, batch_rows: int = BATCH_ROWS) -> Upserted:
    """:func:`upsert_candles` for ``(ts, open, high, low, close, volume)`` tuples."""
    check_symbol(symbol)
    rules = CandleRules(timeframe)
    inserted = updated = total = 0
    previous = MIN_EPOCH_MS - 1
    iterator = iter(rows)
    written: list[int] = []  # first and last ts of rows really written
    async with db.transaction() as tx:
        while batch := list(islice(iterator, batch_rows)):
            previous = _check_batch(batch, rules, previous)
            tss, opens, highs, lows, closes, volumes = zip(*batch, strict=True)
            counts = await tx.run("upsert-candles", symbol=symbol, timeframe=timeframe,
                                  tss=tss, opens=opens, highs=highs, lows=lows,
                                  closes=closes, volumes=volumes)
            inserted += counts["inserted"]
            updated += counts["updated"]
            total += len(batch)
            if counts["first_written_ts"] is not None:
                written = [written[0] if written else counts["first_written_ts"],
                           counts["last_written_ts"]]
        if written:
            await _refuse_if_replayed(tx, symbol, timeframe, written[0], written[1])
    imported = inserted + updated
    return Upserted(imported, total - imported)


class StagedImport:
    """A streamed import inside one transaction: rows are staged batch by batch, then
    checked for repeats and merged in one statement (see ``sql/queries/candles.sql``).

    Nothing reaches ``candles`` before :meth:`finish`, and the transaction makes the
    merge all or nothing, so a file of any size is imported whole or not at all while
    this process holds one batch at a time.  Use :func:`open_staged_import`.
    """

    def __init__(self, tx: Executor, symbol: str, timeframe: str, batch_rows: int) -> None:
        self._tx = tx
        self.symbol = symbol
        self.timeframe = timeframe
        self._batch_rows = batch_rows
        self._buffer: list[tuple[int, CandleRow]] = []

    async def add(self, numbered: Iterable[tuple[int, CandleRow]]) -> None:
        """Stage valid rows with their line numbers (written once a batch is full)."""
        self._buffer.extend(numbered)
        while len(self._buffer) >= self._batch_rows:
            batch = self._buffer[:self._batch_rows]
            del self._buffer[:self._batch_rows]
            await self._stage(batch)

    async def finish(self, layout: str, *, may_repeat: bool = True) -> Imported:
        """Refuse repeated open times with other values, then merge into the market.

        ``may_repeat=False`` (the rows came in strictly increasing ts order) skips
        the search for repeats, a sort of the whole staged file.

        Raises:
            InvalidInput: ``invalid_csv`` listing the repeating lines.
            Conflict: ``market_in_use`` (see :func:`upsert_rows`).
        """
        if self._buffer:
            await self._stage(self._buffer)
            self._buffer = []
        repeats = (await self._tx.run("select-staged-repeats", max_rows=MAX_REPORTED_ERRORS)
                   if may_repeat else [])
        if repeats:
            errors = RowErrors()
            for row in repeats:
                errors.add(row["line"], repeat_message(row["ts"], row["first_line"]))
            errors.count = repeats[0]["total"]
            errors.raise_if_any(layout)
        counts = await self._tx.run("merge-staged-candles", symbol=self.symbol,
                                    timeframe=self.timeframe)
        if counts["first_written_ts"] is not None:
            await _refuse_if_replayed(self._tx, self.symbol, self.timeframe,
                                      counts["first_written_ts"], counts["last_written_ts"])
        imported = counts["inserted"] + counts["updated"]
        return Imported(imported, counts["total"] - imported, counts["first_ts"],
                        counts["last_ts"])

    async def _stage(self, batch: list[tuple[int, CandleRow]]) -> None:
        lines = [line for line, _ in batch]
        tss, opens, highs, lows, closes, volumes = zip(*(row for _, row in batch),
                                                       strict=True)
        await self._tx.run("stage-import-rows", lines=lines, tss=tss, opens=opens,
                           highs=highs, lows=lows, closes=closes, volumes=volumes)


class Imported(NamedTuple):
    """What a staged import did, and the open times of its first and last candle."""

    imported: int
    unchanged: int
    first_ts: int
    last_ts: int


@asynccontextmanager
async def open_staged_import(db: Database, symbol: str, timeframe: str, *,
                             batch_rows: int = BATCH_ROWS) -> AsyncIterator[StagedImport]:
    """A transaction with an empty staging table; rolled back if the block raises."""
    check_symbol(symbol)
    CandleRules(timeframe)
    async with db.transaction() as tx:
        await tx.run("create-import-staging")
        yield StagedImport(tx, symbol, timeframe, batch_rows)


async def _refuse_if_replayed(tx: Executor, symbol: str, timeframe: str, first_ts: int,
                              last_ts: int) -> None:
    # A live session reloads its candles when it resumes after a restart: a change
    # under it would make its log differ from an uninterrupted run's.  Rolled back.
    # sessions on coarser timeframes may replay candles made from these ones
    live = await tx.run("count-live-sessions-over", symbol=symbol,
                        timeframes=coarser_targets(timeframe), first_ts=first_ts,
                        last_ts=last_ts)
    if live:
        raise Conflict(
            f"{live} live session(s) replay {symbol} {timeframe} between {iso(first_ts)} and "
            f"{iso(last_ts)}; stop them or let them finish, then import again",
            code="market_in_use",
            details={"symbol": symbol, "timeframe": timeframe, "fromMs": first_ts,
                     "toMs": last_ts + timeframe_ms(timeframe), "liveSessions": live})


def _check_batch(batch: list[CandleRow], rules: CandleRules, previous: int) -> int:
    is_valid = rules.is_valid
    for row in batch:
        if row[0] <= previous or not is_valid(*row):
            problems = rules.problems(*row)
            if row[0] <= previous:
                problems.append(f"comes after {iso(previous)}: ts must strictly increase")
            raise InvalidInput(f"candle at {iso(row[0])}: {'; '.join(problems)}",
                               code="invalid_candle",
                               details={"ts": row[0], "problems": problems})
        previous = row[0]
    return previous


async def get_market(db: Executor, symbol: str, timeframe: str) -> Market | None:
    """One market's extent and count, or None when it has no candles."""
    row = await db.run("select-market", symbol=symbol, timeframe=timeframe)
    if row is None:
        return None
    return _market(symbol, timeframe, row)


async def list_markets(db: Executor) -> list[Market]:
    """Every stored market, ordered by symbol then timeframe name."""
    rows = await db.run("select-markets")
    return [_market(row["symbol"], row["timeframe"], row) for row in rows]


def _market(symbol: str, timeframe: str, row: Any) -> Market:
    # A timeframe outside TIMEFRAMES can only come from rows written around this
    # module; give its bar zero length rather than failing the whole listing.
    step = TIMEFRAMES.get(timeframe, 0)
    return Market(symbol, timeframe, row["first_ts"], row["last_ts"] + step, row["count"])
