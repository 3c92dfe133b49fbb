"""CSV parsing: layouts, time formats, and every kind of invalid row (no database)."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import pytest

from livesim.errors import InvalidInput
from livesim.market.importer import (
    MAX_REPORTED_ERRORS,
    decode_csv,
    epoch_to_ms,
    parse_csv,
    parse_time_cell,
)
from livesim.market.synthetic import generate_candles
from livesim.sim.candles import Candle

M = 60_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
DAY = 86_400_000
ROWS = [(T0, 100.0, 101.5, 99.5, 101.0, 12.5), (T0 + M, 101.0, 102.0, 100.25, 101.75, 3.0),
        (T0 + 2 * M, 101.75, 101.75, 100.0, 100.5, 0.0)]


def binance(rows: list[tuple[Any, ...]], scale: int = 1) -> str:
    # the 12 columns of a Binance kline file; only the first six are read
    return "".join(f"{ts * scale},{o},{h},{lo},{c},{v},{ts * scale + 59_999},1234.5,42,1.0,2.0,0\n"
                   for ts, o, h, lo, c, v in rows)


def invalid(text: str, timeframe: str = "1m") -> InvalidInput:
    with pytest.raises(InvalidInput) as error:
        parse_csv(text, timeframe)
    return error.value


def lines_and_messages(error: InvalidInput) -> list[tuple[int, str]]:
    return [(item["line"], item["message"]) for item in error.details["errors"]]


# ---- layouts and time formats --------------------------------------------------------


def test_parse_csv_binance_ms_returns_candles_and_ignores_extra_columns() -> None:
    parsed = parse_csv(binance(ROWS), "1m")
    assert parsed.layout == "headerless"
    assert parsed.rows == ROWS
    assert parsed.candles == [Candle(*row) for row in ROWS]


def test_parse_csv_binance_microseconds_detected_by_magnitude() -> None:
    assert parse_csv(binance(ROWS, scale=1000), "1m").rows == ROWS


def test_parse_csv_binance_mixed_ms_and_us_rows_each_detected() -> None:
    text = binance(ROWS[:2]) + binance(ROWS[2:], scale=1000)
    assert parse_csv(text, "1m").rows == ROWS


def test_parse_csv_headered_iso_dates_any_case_any_order() -> None:
    text = ("Volume,Date,CLOSE,open,High,low\n"
            "10,2024-01-01,1.5,1,2,0.5\n"
            "20,2024-01-02,2.5,1.5,3,1\n")
    assert parse_csv(text, "1d").rows == [(T0, 1.0, 2.0, 0.5, 1.5, 10.0),
                                          (T0 + DAY, 1.5, 3.0, 1.0, 2.5, 20.0)]


@pytest.mark.parametrize("stamp", [
    "2024-01-01T00:01:00", "2024-01-01 00:01:00", "2024-01-01T00:01:00Z",
    "2024-01-01T00:01:00+00:00", "2024-01-01T00:01:00.000Z", "2024-01-01T02:01:00+02:00",
    "2023-12-31T19:01:00-05:00"])
def test_parse_csv_headered_iso_datetimes_read_as_utc(stamp: str) -> None:
    text = f"datetime,open,high,low,close,volume\n{stamp},1,2,0.5,1.5,10\n"
    assert parse_csv(text, "1m").rows == [(T0 + M, 1.0, 2.0, 0.5, 1.5, 10.0)]


@pytest.mark.parametrize(("name", "value"), [
    ("timestamp", str((T0 + M) // 1000)),  # epoch seconds
    ("time", str(T0 + M)),  # epoch ms
    ("open_time", str(T0 + M)),
    ("Open Time", str((T0 + M) * 1000)),  # epoch µs
    ("ts", f"{(T0 + M) // 1000}.0"),  # float seconds, as some exports write them
])
def test_parse_csv_headered_epoch_times_by_magnitude(name: str, value: str) -> None:
    text = f"{name},open,high,low,close,volume\n{value},1,2,0.5,1.5,10\n"
    assert parse_csv(text, "1m").rows == [(T0 + M, 1.0, 2.0, 0.5, 1.5, 10.0)]


def test_parse_csv_pandas_unnamed_index_column_is_the_time() -> None:
    index = pd.date_range("2024-01-01", periods=3, freq="1min", name=None)
    frame = pd.DataFrame({"open": [1.0, 2.0, 3.0], "high": [2.0, 3.0, 4.0],
                          "low": [0.5, 1.5, 2.5], "close": [1.5, 2.5, 3.5],
                          "volume": [10.0, 20.0, 30.0]}, index=index)
    text = frame.to_csv()
    assert text.startswith(",open,high")  # what pandas writes for an unnamed index
    parsed = parse_csv(text, "1m")
    assert parsed.layout == "headered"
    assert [row[0] for row in parsed.rows] == [T0, T0 + M, T0 + 2 * M]
    assert parsed.rows[2] == (T0 + 2 * M, 3.0, 4.0, 2.5, 3.5, 30.0)


def test_parse_csv_pandas_tz_aware_daily_index_read_as_utc() -> None:
    index = pd.date_range("2024-01-01", periods=2, freq="D", tz="UTC", name="date")
    frame = pd.DataFrame({"Open": [1.0, 2.0], "High": [2.0, 3.0], "Low": [0.5, 1.5],
                          "Close": [1.5, 2.5], "Volume": [10, 20], "Adj Close": [1, 2]},
                         index=index)
    assert [row[0] for row in parse_csv(frame.to_csv(), "1d").rows] == [T0, T0 + DAY]


def test_parse_csv_unsorted_file_returns_sorted_rows() -> None:
    assert parse_csv(binance(ROWS[::-1]), "1m").rows == ROWS


def test_parse_csv_identical_duplicate_rows_collapse() -> None:
    parsed = parse_csv(binance([ROWS[0], ROWS[1], ROWS[0]]), "1m")
    assert parsed.rows == ROWS[:2]
    assert (parsed.lines, parsed.duplicates) == (3, 1)


def test_parse_csv_blank_lines_bom_and_crlf_are_tolerated() -> None:
    text = "\ufeff" + "\r\n" + binance(ROWS).replace("\n", "\r\n\r\n")
    assert parse_csv(text, "1m").rows == ROWS
    assert parse_csv(decode_csv(text.encode("utf-8")), "1m").rows == ROWS


def test_parse_csv_quoted_cells_and_trailing_columns_are_read() -> None:
    text = 'date,open,high,low,close,volume,note\n"2024-01-01","1","2","0.5","1.5","9","a, b"\n'
    assert parse_csv(text, "1d").rows == [(T0, 1.0, 2.0, 0.5, 1.5, 9.0)]


# ---- invalid rows: every problem, with its line, and nothing returned -------------


def test_parse_csv_non_numeric_values_reported_with_line_numbers() -> None:
    text = "time,open,high,low,close,volume\n" + \
        f"{T0},1,2,0.5,1.5,10\n{T0 + M},abc,2,0.5,1.5,10\n{T0 + 2 * M},1,2,0.5,1.5,\n"
    error = invalid(text)
    assert error.code == "invalid_csv"
    assert lines_and_messages(error) == [(3, "open is not a number: 'abc'"),
                                         (4, "volume is not a number: ''")]
    assert error.details["errorCount"] == 2


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-Infinity"])
def test_parse_csv_nan_and_infinity_are_invalid(value: str) -> None:
    error = invalid(f"time,open,high,low,close,volume\n{T0},1,{value},0.5,1.5,10\n")
    assert error.details["errors"][0]["line"] == 2
    assert "high" in error.details["errors"][0]["message"]
    assert "finite" in error.details["errors"][0]["message"]


@pytest.mark.parametrize(("row", "words"), [
    ((T0, 1.0, 1.0, 2.0, 1.5, 1.0), "high 1.0 is below low 2.0"),
    ((T0, 3.0, 2.0, 1.0, 1.5, 1.0), "open 3.0 is outside [low, high]"),
    ((T0, 1.5, 2.0, 1.0, 0.5, 1.0), "close 0.5 is outside [low, high]"),
    ((T0, 1.5, 2.0, 1.0, 1.5, -1.0), "volume -1.0 is negative"),
    ((T0 + 30_000, 1.5, 2.0, 1.0, 1.5, 1.0), "not on the 1m grid"),
])
def test_parse_csv_inconsistent_row_reported_on_its_line(row: tuple[Any, ...],
                                                         words: str) -> None:
    error = invalid(binance([ROWS[0], row]).replace(f"{T0},", f"{T0 - M},", 1))
    [(line, message)] = lines_and_messages(error)
    assert line == 2
    assert words in message


def test_parse_csv_off_grid_for_timeframe_names_time_and_grid() -> None:
    error = invalid(binance(ROWS), "5m")
    assert [line for line, _ in lines_and_messages(error)] == [2, 3]
    assert "2024-01-01T00:01:00Z is not on the 5m grid" in error.details["errors"][0]["message"]


def test_parse_csv_duplicate_time_with_other_values_names_both_lines() -> None:
    changed = (T0, 100.0, 101.5, 99.5, 101.0, 99.0)
    error = invalid(binance([*ROWS, changed]))
    assert lines_and_messages(error) == [
        (4, "open time 2024-01-01T00:00:00Z repeats line 1 with other values")]


def test_parse_csv_bad_times_and_short_rows_reported() -> None:
    text = ("date,open,high,low,close,volume\n"
            "2024-13-01,1,2,0.5,1.5,1\n"
            "yesterday,1,2,0.5,1.5,1\n"
            "2024-01-01T00:00:00.000123,1,2,0.5,1.5,1\n"
            "2024-01-02,1,2\n")
    error = invalid(text, "1d")
    found = lines_and_messages(error)
    assert [line for line, _ in found] == [2, 3, 4, 5]
    assert "not a time" in found[1][1]
    assert "finer than a millisecond" in found[2][1]
    assert found[3][1] == "expected at least 6 columns, found 3"


def test_parse_csv_several_problems_on_one_row_all_reported() -> None:
    error = invalid(f"{T0 + 1},1,1,2,1.5,-1\n")
    messages = [message for _, message in lines_and_messages(error)]
    assert len(messages) == 3  # off grid, high below low, negative volume
    assert all(line == 1 for line, _ in lines_and_messages(error))


def test_parse_csv_error_list_capped_with_total_count() -> None:
    rows = [(T0 + i * M, 1.0, 2.0, 0.5, 1.5, -1.0) for i in range(250)]
    error = invalid(binance(rows))
    assert error.details["errorCount"] == 250
    assert len(error.details["errors"]) == MAX_REPORTED_ERRORS
    assert error.details["errors"][-1]["line"] == MAX_REPORTED_ERRORS
    assert "250 problem(s)" in error.message
    assert "nothing was imported" in error.message


def test_parse_csv_line_numbers_count_quoted_newlines() -> None:
    text = ('date,open,high,low,close,volume,note\n'
            '2024-01-01,1,2,0.5,1.5,1,"two\nlines"\n'
            '2024-01-02,1,2,0.5,1.5,-1,x\n')
    assert lines_and_messages(invalid(text, "1d"))[0][0] == 4


# ---- empty files, headers, encodings, names -----------------------------------------


@pytest.mark.parametrize("text", ["", "\n\n  \n", "\ufeff"])
def test_parse_csv_empty_file_is_clear_error(text: str) -> None:
    assert invalid(text).code == "empty_csv"


def test_parse_csv_header_without_rows_is_empty_error() -> None:
    error = invalid("time,open,high,low,close,volume\n\n")
    assert error.code == "empty_csv"
    assert "no rows" in error.message


def test_parse_csv_header_missing_columns_lists_them() -> None:
    error = invalid("when,open,high,low,close\n2024-01-01,1,2,0.5,1.5\n")
    assert error.code == "invalid_csv_header"
    assert error.details["missing"] == ["time", "volume"]
    assert "time, date, timestamp, datetime" in error.message


def test_parse_csv_header_with_two_time_columns_is_refused() -> None:
    error = invalid("date,time,open,high,low,close,volume\n2024-01-01,00:00,1,2,0.5,1.5,1\n")
    assert error.code == "invalid_csv_header"
    assert error.details["repeated"] == {"time": ["date", "time"]}


def test_parse_csv_unknown_timeframe_lists_valid_ones() -> None:
    error = invalid(binance(ROWS), "7m")
    assert error.code == "unknown_timeframe"
    assert error.context["valid"][:3] == ["1m", "3m", "5m"]
    assert "1d" in error.message


def test_decode_csv_not_utf8_reports_line() -> None:
    with pytest.raises(InvalidInput) as error:
        decode_csv(b"time,open\n1,2\n\xff\xfe,3\n")
    assert error.value.code == "invalid_encoding"
    assert error.value.details == {"line": 3}


# ---- time cells -----------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    (1_704_067_200, T0), (T0, T0), (T0 * 1000, T0), (T0 * 1_000_000, T0), (0, 0),
    (-86_400, -DAY)])
def test_epoch_to_ms_units_by_magnitude(value: int, expected: int) -> None:
    assert epoch_to_ms(value) == expected


def test_epoch_to_ms_sub_millisecond_is_refused() -> None:
    with pytest.raises(ValueError, match="finer than a millisecond"):
        epoch_to_ms(T0 * 1000 + 1)


@pytest.mark.parametrize(("cell", "expected"), [
    (" 2024-01-01 ", T0), ("2024-01-01T00:00:00.5Z", T0 + 500), ("1704067200.25", T0 + 250)])
def test_parse_time_cell_reads_padding_and_fractions(cell: str, expected: int) -> None:
    assert parse_time_cell(cell) == expected


def test_parse_csv_large_file_parses_in_linear_time() -> None:
    # 200k rows: quadratic behaviour would take minutes; linear takes about a second.
    rows = [(T0 + i * M, 1.0, 2.0, 0.5, 1.5, 1.0) for i in range(200_000)]
    text = io.StringIO()
    for row in rows:
        text.write(f"{row[0]},1.0,2.0,0.5,1.5,1.0\n")
    assert parse_csv(text.getvalue(), "1m").rows == rows


def test_parse_csv_synthetic_round_trip_is_exact() -> None:
    # repr() of a float reads back to the same float: re-imports compare equal
    candles = generate_candles("1m", T0, T0 + 5_000 * M, seed=4)
    text = "".join(f"{c.ts},{c.open!r},{c.high!r},{c.low!r},{c.close!r},{c.volume!r}\n"
                   for c in candles)
    assert parse_csv(text, "1m").candles == candles
