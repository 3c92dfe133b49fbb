"""Parse candle CSV files into validated candles, all or nothing (no I/O).

Two layouts are recognised from the first non-blank row:

- **Headerless** (Binance kline files): the first cell is a time, and the columns are
  open time, open, high, low, close, volume; extra columns (close time, quote volume,
  trades, ...) are ignored.
- **Headered**: a header row names the columns, in any case and order: the time is
  ``time``, ``date``, ``timestamp``, ``datetime``, ``open time``/``open_time`` or ``ts``,
  or an unnamed first column (what pandas' ``to_csv`` writes for a time index); then
  ``open``, ``high``, ``low``, ``close``, ``volume``.  Other columns are ignored.

A time is an ISO-8601 date or datetime (no offset or ``Z`` means UTC; other offsets
are converted to UTC) or an epoch number whose unit is read from its magnitude, row by
row (so concatenated Binance files that switched from ms to µs still import):
below 1e11 seconds, below 1e14 milliseconds, below 1e17 microseconds, else
nanoseconds.  A time finer than a millisecond is refused.

Every row is checked (:class:`~livesim.market.checks.CandleRules`); a repeated open
time with identical values is dropped, with different values it is an error.  All the
problems of a file are collected with their 1-based line numbers, and one
:class:`~livesim.errors.InvalidInput` lists them (the first
:data:`MAX_REPORTED_ERRORS`, with the total), so nothing is ever half-imported.
Numbers are ASCII decimals (``float`` alone would also read ``1_000`` and digits of
other scripts).  :class:`CsvParser` reads a file piece by piece in bounded memory
(what the store's streaming import uses); :func:`parse_csv` reads a whole text in
memory and also de-duplicates and sorts (one pass plus a sort).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from itertools import starmap
from typing import TYPE_CHECKING

from livesim.errors import InvalidInput
from livesim.market.checks import CandleRow, CandleRules, iso
from livesim.sim.candles import Candle

if TYPE_CHECKING:
    from _csv import Reader as _reader

MAX_REPORTED_ERRORS = 100
VALUE_COLUMNS = ("open", "high", "low", "close", "volume")
# Header names (lowercase, without spaces, '_' and '-') that hold the open time.
TIME_NAMES = frozenset({"time", "date", "timestamp", "datetime", "opentime", "ts",
                        "unnamed:0"})
TIME_NAMES_HINT = ("time, date, timestamp, datetime, open time or an unnamed first column")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_SHOWN_CELL = 40


@dataclass(frozen=True, slots=True)
class ParsedCsv:
    """A valid file: its candles in ts order, without duplicates.

    Rows are plain tuples rather than :class:`Candle` objects: building a frozen
    dataclass per row would be a fifth of the parsing time of a large file, and the
    store writes columns anyway.
    """

    rows: list[CandleRow]  # (ts, open, high, low, close, volume), ts strictly increasing
    layout: str  # "headerless" | "headered"
    lines: int  # data rows read, duplicates included
    duplicates: int  # rows dropped as exact repeats of an earlier row

    @property
    def candles(self) -> list[Candle]:
        """The rows as :class:`Candle` objects."""
        return list(starmap(Candle, self.rows))


def decode_csv(data: bytes) -> str:
    """Decode an uploaded file as UTF-8 (a byte-order mark is dropped).

    Raises:
        InvalidInput: code ``invalid_encoding``, with the line of the first bad byte.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise InvalidInput(f"the CSV is not UTF-8 text (a bad byte on line {line})",
                           code="invalid_encoding", details={"line": line}) from None


class Utf8Decoder:
    """Decode an upload piece by piece as UTF-8 (a leading byte-order mark is dropped).

    A character split between two pieces is kept until the next one.
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._lines = 0  # newlines in the bytes decoded so far

    def decode(self, data: bytes, *, final: bool = False) -> str:
        """The text of ``data`` (and of what was held back from the previous piece).

        Raises:
            InvalidInput: code ``invalid_encoding``, with the line of the bad byte.
        """
        try:
            text: str = self._decoder.decode(data, final)
        except UnicodeDecodeError as error:
            # error.start counts from the bytes held back plus this piece; close enough
            # to name the line: the held-back part has no newline in it.
            line = self._lines + data.count(b"\n", 0, max(0, error.start)) + 1
            raise InvalidInput(f"the CSV is not UTF-8 text (a bad byte on line {line})",
                               code="invalid_encoding", details={"line": line}) from None
        self._lines += data.count(b"\n")
        return text


def epoch_to_ms(value: int) -> int:
    """Epoch seconds, ms, µs or ns (told apart by magnitude) as epoch ms.

    Raises:
        ValueError: the value is finer than a millisecond.
    """
    magnitude = abs(value)
    if magnitude < 10**11:
        return value * 1000
    if magnitude < 10**14:
        return value
    divisor = 1000 if magnitude < 10**17 else 1_000_000
    ms, rest = divmod(value, divisor)
    if rest:
        raise ValueError(f"{value} is finer than a millisecond")
    return ms


def datetime_to_ms(moment: datetime) -> int:
    """A datetime (naive means UTC) as epoch ms.

    Raises:
        ValueError: the datetime is finer than a millisecond.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    ms, rest = divmod((delta.days * 86_400 + delta.seconds) * 1_000_000
                      + delta.microseconds, 1000)
    if rest:
        raise ValueError(f"{moment.isoformat()} is finer than a millisecond")
    return ms


def parse_time_cell(text: str) -> int:
    """One CSV time cell (ISO date/datetime or epoch number) as epoch ms.

    Raises:
        ValueError: with the reason, when the cell is not a time livesim can read.
    """
    if not text.isascii() or "_" in text:
        # int(), Decimal() and fromisoformat() also read "1_000" and digits of other
        # scripts; a CSV number is ASCII decimal only.
        raise ValueError(f"{_show(text)} is not a time: ASCII digits only")
    try:
        value = int(text)
    except ValueError:
        return _parse_time_text(text)
    return epoch_to_ms(value)


def ascii_float(text: str) -> float:
    """A CSV number: ASCII decimal, optionally with an exponent (``float`` alone would
    also take ``1_000`` and digits of other scripts).

    Raises:
        ValueError: the cell is not such a number.
    """
    if text.isascii() and "_" not in text:
        return float(text)
    raise ValueError(f"{_show(text)} is not an ASCII decimal number")


def _parse_time_text(text: str) -> int:
    stripped = text.strip()
    if not stripped:
        raise ValueError("the time is empty")
    try:
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        return _decimal_epoch_to_ms(stripped)
    return datetime_to_ms(moment)


def _decimal_epoch_to_ms(text: str) -> int:
    # A fractional epoch ("1704067200.5"), read exactly: no float rounding.
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{_show(text)} is not a time: expected an ISO date or datetime "
                         "(UTC) or an epoch number") from None
    if not number.is_finite() or abs(number) >= 10**20:
        raise ValueError(f"{_show(text)} is not a time: out of range")
    magnitude = abs(number)
    if magnitude < 10**11:
        ms = number * 1000
    elif magnitude < 10**14:
        ms = number
    elif magnitude < 10**17:
        ms = number / 1000
    else:
        ms = number / 1_000_000
    if ms != ms.to_integral_value():
        raise ValueError(f"{_show(text)} is finer than a millisecond")
    return int(ms)


def _show(cell: str) -> str:
    return repr(cell if len(cell) <= _MAX_SHOWN_CELL else cell[:_MAX_SHOWN_CELL] + "...")


class RowErrors:
    """The problems of a file: all counted, the first :data:`MAX_REPORTED_ERRORS` kept."""

    def __init__(self) -> None:
        self.shown: list[dict[str, object]] = []
        self.count = 0

    def add(self, line: int, message: str) -> None:
        """Record one problem of ``line``."""
        self.count += 1
        if len(self.shown) < MAX_REPORTED_ERRORS:
            self.shown.append({"line": line, "message": message})

    def raise_if_any(self, layout: str) -> None:
        """Raise ``invalid_csv`` listing the problems, if there are any."""
        if not self.count:
            return
        listed = "" if self.count <= len(self.shown) else f"; the first {len(self.shown)} listed"
        raise InvalidInput(
            f"the CSV has {self.count} problem(s){listed}; nothing was imported",
            code="invalid_csv",
            details={"errors": self.shown, "errorCount": self.count, "layout": layout})


def _normalize(name: str) -> str:
    name = name.strip().lower().strip("<>")
    return name.replace(" ", "").replace("_", "").replace("-", "")


def _header_columns(header: list[str], line: int) -> tuple[int, int, int, int, int, int]:
    found: dict[str, list[int]] = {}
    for index, cell in enumerate(header):
        name = _normalize(cell)
        role = ("time" if name in TIME_NAMES or (index == 0 and name == "")
                else name if name in VALUE_COLUMNS else None)
        if role is not None:
            found.setdefault(role, []).append(index)
    missing = [role for role in ("time", *VALUE_COLUMNS) if role not in found]
    repeated = {role: [header[i].strip() for i in indexes]
                for role, indexes in found.items() if len(indexes) > 1}
    if missing or repeated:
        reasons = []
        if missing:
            reasons.append(f"no {', '.join(missing)} column")
        reasons += [f"several {role} columns ({', '.join(map(repr, names))})"
                    for role, names in repeated.items()]
        raise InvalidInput(
            f"the header on line {line} has {'; '.join(reasons)}. Expected a time column "
            f"({TIME_NAMES_HINT}) and open, high, low, close, volume in any case, or no "
            "header and the Binance kline layout",
            code="invalid_csv_header",
            details={"line": line, "missing": missing, "repeated": repeated,
                     "header": [_show(cell) for cell in header[:32]]})
    time_at, open_at, high_at, low_at, close_at, volume_at = (
        found[role][0] for role in ("time", *VALUE_COLUMNS))
    return time_at, open_at, high_at, low_at, close_at, volume_at


def _is_time(cell: str) -> bool:
    try:
        parse_time_cell(cell)
    except ValueError:
        return False
    return True


def _cell_problems(row: list[str], columns: tuple[int, int, int, int, int, int]) -> list[str]:
    found = []
    try:
        parse_time_cell(row[columns[0]])
    except ValueError as error:
        found.append(f"time: {error}")
    for name, index in zip(VALUE_COLUMNS, columns[1:], strict=True):
        try:
            ascii_float(row[index])
        except ValueError:
            found.append(f"{name} is not a number: {_show(row[index])}")
    return found


class CsvParser:
    """An incremental parser: feed the file in pieces of any size, get valid rows back.

    Memory is bounded by the largest piece plus one incomplete record: a piece is cut
    after its last complete record (a newline outside quotes), the rest waits for the
    next piece.  Invalid rows are counted in :attr:`errors` (the first
    :data:`MAX_REPORTED_ERRORS` with their lines) and never returned; :meth:`close`
    raises if there were any.  Duplicates are not looked for here: that needs the
    whole file (see :func:`parse_csv`, and the store's staging table).
    """

    def __init__(self, timeframe: str) -> None:
        self.rules = CandleRules(timeframe)
        self.errors = RowErrors()
        self.layout = "unknown"
        self.lines = 0  # data rows read
        self.rows = 0  # valid rows returned
        # every valid row so far came after the one before (no repeat is possible)
        self.increasing = True
        self._last_ts: int | None = None
        self._columns: tuple[int, int, int, int, int, int] | None = None
        self._header_line = 0
        self._pending = ""
        self._line_base = 0  # physical lines before the pending text
        self._started = False

    def feed(self, text: str) -> list[tuple[int, CandleRow]]:
        """The valid rows of the complete records in ``text`` (and what was pending)."""
        if not self._started:
            # a byte-order mark would otherwise glue itself to the first header name
            text = text.removeprefix("\ufeff")
            self._started = bool(text)
        pending = self._pending + text
        cut = _last_record_end(pending)
        self._pending = pending[cut:]
        return self._parse(pending[:cut])

    def close(self) -> list[tuple[int, CandleRow]]:
        """The rows of the last record, then the verdict on the whole file.

        Raises:
            InvalidInput: ``invalid_csv`` (rows had problems), ``invalid_csv_header``,
                or ``empty_csv`` (no header and no rows, or a header and no rows).
        """
        rows = self._parse(self._pending)
        self._pending = ""
        self.errors.raise_if_any(self.layout)
        if self._columns is None:
            raise InvalidInput("the CSV is empty: no header and no rows", code="empty_csv")
        if not self.rows:
            raise InvalidInput(f"the CSV has a header (line {self._header_line}) but no rows",
                               code="empty_csv")
        return rows

    def _parse(self, text: str) -> list[tuple[int, CandleRow]]:
        if not text:
            return []
        reader = csv.reader(io.StringIO(text))
        base = self._line_base
        self._line_base += text.count("\n") + (not text.endswith("\n"))
        numbered = _rows(reader, self.errors, base)
        if self._columns is None:
            first = next(numbered, None)
            if first is None:
                return []
            line, cells = first
            if _is_time(cells[0]):
                self.layout, self._columns = "headerless", (0, 1, 2, 3, 4, 5)
                numbered = _chain(first, numbered)
            else:
                self.layout, self._header_line = "headered", line
                self._columns = _header_columns(cells, line)
        return self._valid_rows(numbered, self._columns)

    def _valid_rows(self, numbered: Iterator[tuple[int, list[str]]],
                    columns: tuple[int, int, int, int, int, int]
                    ) -> list[tuple[int, CandleRow]]:
        time_at, open_at, high_at, low_at, close_at, volume_at = columns
        width = max(columns) + 1
        errors, rules, is_valid = self.errors, self.rules, self.rules.is_valid
        found: list[tuple[int, CandleRow]] = []
        count = 0
        for line, cells in numbered:
            count += 1
            if len(cells) < width:
                errors.add(line, f"expected at least {width} columns, found {len(cells)}")
                continue
            try:
                row = (parse_time_cell(cells[time_at]), ascii_float(cells[open_at]),
                       ascii_float(cells[high_at]), ascii_float(cells[low_at]),
                       ascii_float(cells[close_at]), ascii_float(cells[volume_at]))
            except ValueError:
                for message in _cell_problems(cells, columns):
                    errors.add(line, message)
                continue
            if not is_valid(*row):
                for message in rules.problems(*row):
                    errors.add(line, message)
                continue
            found.append((line, row))
        if found:
            first_ts = found[0][1][0]
            self.increasing = self.increasing and (
                (self._last_ts is None or first_ts > self._last_ts)
                and all(a[1][0] < b[1][0] for a, b in zip(found, found[1:], strict=False)))
            self._last_ts = found[-1][1][0]
        self.lines += count
        self.rows += len(found)
        return found


def parse_csv(text: str, timeframe: str) -> ParsedCsv:
    """Parse and validate a whole CSV file of ``timeframe`` candles (in memory).

    Raises:
        InvalidInput: ``unknown_timeframe``; ``empty_csv`` (no data rows);
            ``invalid_csv_header``; ``invalid_csv`` with ``details.errors`` =
            ``[{line, message}, ...]`` and ``details.errorCount``.
    """
    parser = CsvParser(timeframe)
    numbered = parser.feed(text)
    numbered += parser.close()
    by_ts: dict[int, CandleRow] = {}
    line_of: dict[int, int] = {}
    duplicates = 0
    for line, row in numbered:
        ts = row[0]
        seen = by_ts.get(ts)
        if seen is None:
            by_ts[ts] = row
            line_of[ts] = line
        elif seen == row:
            duplicates += 1
        else:
            parser.errors.add(line, repeat_message(ts, line_of[ts]))
    parser.errors.raise_if_any(parser.layout)
    # Open times are unique, so tuples sort by ts alone; linear on an ordered file.
    return ParsedCsv(sorted(by_ts.values()), parser.layout, parser.lines, duplicates)


def repeat_message(ts: int, first_line: int) -> str:
    """The error for an open time that repeats an earlier line with other values."""
    return f"open time {iso(ts)} repeats line {first_line} with other values"


def _last_record_end(text: str) -> int:
    # The end of the last complete record: after the last newline outside quotes.
    # A doubled quote inside a quoted cell adds two, so the parity still holds.
    if '"' not in text:
        return text.rfind("\n") + 1
    cut = position = quotes = 0
    while (newline := text.find("\n", position)) >= 0:
        quotes += text.count('"', position, newline)
        position = newline + 1
        if quotes % 2 == 0:
            cut = position
    return cut


def _rows(reader: _reader, errors: RowErrors, base: int) -> Iterator[tuple[int, list[str]]]:
    # Non-blank rows with the physical line they end on: reader.line_num counts
    # lines, not rows, so a quoted newline inside a cell does not shift later numbers.
    try:
        for cells in reader:
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            yield base + reader.line_num, cells
    except csv.Error as error:
        errors.add(base + reader.line_num, f"unreadable CSV: {error}")


def _chain(first: tuple[int, list[str]], rest: Iterator[tuple[int, list[str]]]
           ) -> Iterator[tuple[int, list[str]]]:
    yield first
    yield from rest
