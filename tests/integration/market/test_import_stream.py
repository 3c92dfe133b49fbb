"""Streaming imports: ASCII numbers only, pieces of any size, bounded memory."""

from __future__ import annotations

import random
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from livesim.db.bridge import Database
from livesim.errors import InvalidInput
from livesim.market.commands import import_file, import_stream, synthesize, synthesize_csv
from livesim.market.importer import CsvParser, Utf8Decoder, parse_csv
from livesim.market.store import load_candles
from livesim.market.synthetic import generate_candles, iter_candles

M = 60_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z


def invalid(text: str, timeframe: str = "1m") -> InvalidInput:
    with pytest.raises(InvalidInput) as error:
        parse_csv(text, timeframe)
    return error.value


@pytest.mark.parametrize("cell", ["1_000", "\uff11\uff10", "\u0661\u0660", "1\u00a0", "\u00b2"])
def test_parse_csv_non_ascii_or_underscored_value_is_not_a_number(cell: str) -> None:
    error = invalid(f"{T0},1,2,0.5,1.5,{cell}\n")
    assert error.code == "invalid_csv"
    assert error.details["errors"][0]["line"] == 1
    assert "volume is not a number" in error.details["errors"][0]["message"]


@pytest.mark.parametrize("cell", ["1_704_067_200_000", "\u0661\u0667\u0660\u0664" * 3 + "0"])
def test_parse_csv_non_ascii_or_underscored_time_is_refused(cell: str) -> None:
    error = invalid(f"time,open,high,low,close,volume\n{cell},1,2,0.5,1.5,1\n")
    assert error.code == "invalid_csv"
    assert "ASCII digits only" in error.details["errors"][0]["message"]


@pytest.mark.parametrize("cell", ["1e-05", "+2.5", "-0.0", ".5", "3."])
def test_parse_csv_ascii_decimal_forms_are_numbers(cell: str) -> None:
    assert parse_csv(f"{T0},-1,3,-1,{cell},1\n", "1m").rows[0][4] == float(cell)


def pieces(text: str, seed: int) -> list[str]:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(text)), min(len(text) - 1, 40)))
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]


@pytest.mark.parametrize("seed", range(5))
def test_csv_parser_any_pieces_give_the_whole_file_rows_and_lines(seed: int) -> None:
    text = ('\ufeffdate,open,high,low,close,volume,note\n'
            '2024-01-01,1,2,0.5,1.5,1,"two\nlines"\n\n'
            '2024-01-02,1,2,0.5,1.5,2,"a ""quoted"", b"\r\n'
            '2024-01-04,1,2,0.5,1.5,4')
    parser = CsvParser("1d")
    rows = [row for piece in pieces(text, seed) for row in parser.feed(piece)]
    rows += parser.close()
    assert [line for line, _ in rows] == [3, 5, 6]
    assert [row for _, row in rows] == parse_csv(text, "1d").rows
    bad = CsvParser("1d")
    for piece in pieces(text.replace(",4", ",-4"), seed):
        bad.feed(piece)
    with pytest.raises(InvalidInput) as error:
        bad.close()
    assert error.value.details["errors"][0]["line"] == 6


def test_utf8_decoder_character_split_between_pieces_is_kept() -> None:
    data = "time,öpen\n".encode()
    decoder = Utf8Decoder()
    text = "".join(decoder.decode(data[i:i + 1]) for i in range(len(data)))
    assert text + decoder.decode(b"", final=True) == "time,öpen\n"


def test_utf8_decoder_bad_byte_in_later_piece_names_its_line() -> None:
    decoder = Utf8Decoder()
    decoder.decode(b"a\nb\n")
    with pytest.raises(InvalidInput) as error:
        decoder.decode(b"c\n\xff\n")
    assert error.value.details == {"line": 4}


async def chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


def binance(count: int, seed: int = 3) -> bytes:
    return "".join(f"{c.ts},{c.open!r},{c.high!r},{c.low!r},{c.close!r},{c.volume!r}\n"
                   for c in generate_candles("1m", T0, T0 + count * M, seed)).encode()


async def test_import_stream_small_pieces_import_every_row_then_no_op(db: Database) -> None:
    data = binance(500)
    first = await import_stream(db, chunks(data, 97), "SYN", "1m")
    assert first == {"symbol": "SYN", "timeframe": "1m", "imported": 500, "unchanged": 0,
                     "fromMs": T0, "toMs": T0 + 500 * M}
    again = await import_stream(db, chunks(data, 4096), "SYN", "1m")
    assert (again["imported"], again["unchanged"]) == (0, 500)
    loaded = await load_candles(db, "SYN", "1m", T0, T0 + 500 * M)
    assert loaded.candles == generate_candles("1m", T0, T0 + 500 * M, 3)


async def test_import_stream_bad_last_row_writes_nothing(db: Database) -> None:
    data = binance(12_000) + f"{T0 + 12_000 * M},1,1,2,1,1\n".encode()
    with pytest.raises(InvalidInput) as error:
        await import_stream(db, chunks(data, 10_000), "SYN", "1m")
    assert error.value.details["errors"][0]["line"] == 12_001
    assert (await db.fetch_sql("SELECT count(*) AS n FROM candles"))[0]["n"] == 0


async def test_import_stream_repeat_with_other_values_names_both_lines(db: Database) -> None:
    rows = binance(10_000).decode().splitlines()
    cells = rows[3].split(",")
    repeat = ",".join([cells[0], *cells[1:5], "999.5"])
    data = ("\n".join([*rows, repeat, rows[7]]) + "\n").encode()
    with pytest.raises(InvalidInput) as error:
        await import_stream(db, chunks(data, 5_000), "SYN", "1m")
    assert error.value.details["errors"] == [
        {"line": 10_001, "message": "open time 2024-01-01T00:03:00Z repeats line 4 with "
                                    "other values"}]
    assert error.value.details["errorCount"] == 1
    assert (await db.fetch_sql("SELECT count(*) AS n FROM candles"))[0]["n"] == 0
    # an identical repeat is dropped, not an error
    ok = await import_stream(db, chunks(("\n".join([*rows, rows[7]]) + "\n").encode(), 5_000),
                             "SYN", "1m")
    assert (ok["imported"], ok["unchanged"]) == (10_000, 0)


def write_file(path: Path, count: int) -> Path:
    with path.open("w") as file:
        for c in iter_candles("1m", T0, T0 + count * M, 5):
            file.write(f"{c.ts},{c.open!r},{c.high!r},{c.low!r},{c.close!r},{c.volume!r}\n")
    return path


async def traced_import(db: Database, path: Path, symbol: str) -> int:
    tracemalloc.start()
    try:
        result = await import_file(db, path, symbol, "1m")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result["unchanged"] == 0
    return peak


async def test_import_file_peak_memory_does_not_grow_with_the_file(db: Database,
                                                                  tmp_path: Path) -> None:
    # Reading a file whole and keeping its rows grew with it (~400 bytes a row); now
    # the peak is one piece and one staged batch, whatever the file's length.
    small = await traced_import(db, write_file(tmp_path / "small.csv", 20_000), "SMALL")
    big_path = write_file(tmp_path / "big.csv", 150_000)
    big = await traced_import(db, big_path, "BIG")
    assert big < 1.3 * small + 1_000_000, (small, big)
    assert big < big_path.stat().st_size, (big, big_path.stat().st_size)


async def test_synthesize_csv_file_imports_the_same_candles_as_synthesize(
        db: Database, tmp_path: Path) -> None:
    path = tmp_path / "sample.csv"
    written = synthesize_csv(path, "SYN", "5m", T0, T0 + 3 * 86_400_000, 7)
    assert written["candles"] == 3 * 288
    result = await import_file(db, path, "SYN", "5m")
    assert (result["imported"], result["fromMs"], result["toMs"]) == (
        864, written["fromMs"], written["toMs"])
    again = await synthesize(db, "SYN", "5m", T0, T0 + 3 * 86_400_000, 7)
    assert (again["imported"], again["unchanged"]) == (0, 864)


def test_csv_parser_tells_an_increasing_file_from_one_that_may_repeat() -> None:
    ordered, shuffled = CsvParser("1m"), CsvParser("1m")
    rows = [f"{T0 + i * M},1,2,0.5,1.5,1\n" for i in range(50)]
    for piece in pieces("".join(rows), 1):
        ordered.feed(piece)
    ordered.close()
    for piece in pieces("".join(rows[:30] + rows[29:]), 1):
        shuffled.feed(piece)
    shuffled.close()
    assert (ordered.increasing, shuffled.increasing) == (True, False)
