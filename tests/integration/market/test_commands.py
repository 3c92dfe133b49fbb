"""The CLI's market operations: import a file, synthesize, parse --start/--end."""

from __future__ import annotations

from pathlib import Path

import pytest

from livesim.db.bridge import Database
from livesim.errors import InvalidInput
from livesim.market.commands import import_file, parse_time, synthesize
from livesim.market.store import load_candles
from livesim.market.synthetic import generate_candles
from tests.support.stubs import START_MS, candle_series

M = 60_000


def write_binance(path: Path, count: int) -> Path:
    path.write_text("".join(f"{c.ts},{c.open},{c.high},{c.low},{c.close},{c.volume},"
                            f"{c.ts + M - 1},0,0,0,0,0\n" for c in candle_series(count)))
    return path


async def count_rows(db: Database) -> int:
    rows = await db.fetch_sql("SELECT count(*) AS n FROM candles")
    return int(rows[0]["n"])


async def test_import_file_new_then_again_is_no_op(db: Database, tmp_path: Path) -> None:
    path = write_binance(tmp_path / "BTCUSDT-1m.csv", 20)
    first = await import_file(db, path, "BTCUSDT", "1m")
    assert first == {"symbol": "BTCUSDT", "timeframe": "1m", "imported": 20, "unchanged": 0,
                     "fromMs": START_MS, "toMs": START_MS + 20 * M}
    again = await import_file(db, path, "BTCUSDT", "1m")
    assert (again["imported"], again["unchanged"]) == (0, 20)
    loaded = await load_candles(db, "BTCUSDT", "1m", START_MS, START_MS + 20 * M)
    assert loaded.candles == candle_series(20)


async def test_import_file_changed_values_reported_imported(db: Database,
                                                           tmp_path: Path) -> None:
    path = write_binance(tmp_path / "a.csv", 5)
    await import_file(db, path, "BTCUSDT", "1m")
    lines = path.read_text().splitlines()
    cells = lines[2].split(",")
    cells[5] = "123.25"  # the volume of the third candle
    lines[2] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    result = await import_file(db, path, "BTCUSDT", "1m")
    assert (result["imported"], result["unchanged"]) == (1, 4)
    loaded = await load_candles(db, "BTCUSDT", "1m", START_MS, START_MS + 5 * M)
    assert loaded.candles[2].volume == 123.25


async def test_import_file_invalid_rows_write_nothing(db: Database, tmp_path: Path) -> None:
    path = write_binance(tmp_path / "a.csv", 30)
    with path.open("a") as file:
        file.write(f"{START_MS + 30 * M},1,1,2,1,1\n")  # line 31: high < low
        file.write(f"{START_MS + 31 * M},1,2,0.5,1,-3\n")  # line 32: negative volume
    with pytest.raises(InvalidInput) as error:
        await import_file(db, path, "BTCUSDT", "1m")
    assert [e["line"] for e in error.value.details["errors"]] == [31, 32]
    assert await count_rows(db) == 0


async def test_import_file_missing_file_is_clear_error(db: Database, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as error:
        await import_file(db, tmp_path / "nope.csv", "BTCUSDT", "1m")
    assert error.value.code == "unreadable_file"


async def test_import_file_bad_symbol_checked_before_reading(db: Database,
                                                            tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as error:
        await import_file(db, tmp_path / "nope.csv", "-bad", "1m")
    assert error.value.code == "invalid_symbol"


async def test_synthesize_twice_same_candles_second_unchanged(db: Database) -> None:
    end = START_MS + 600 * M
    first = await synthesize(db, "DEMO", "1m", START_MS, end, seed=7)
    assert first == {"symbol": "DEMO", "timeframe": "1m", "seed": 7, "imported": 600,
                     "unchanged": 0, "fromMs": START_MS, "toMs": end}
    second = await synthesize(db, "DEMO", "1m", START_MS, end, seed=7)
    assert (second["imported"], second["unchanged"]) == (0, 600)
    loaded = await load_candles(db, "DEMO", "1m", START_MS, end)
    assert loaded.candles == generate_candles("1m", START_MS, end, seed=7)


async def test_synthesize_range_without_bar_or_too_long_is_refused(db: Database) -> None:
    with pytest.raises(InvalidInput) as error:
        await synthesize(db, "DEMO", "1d", START_MS + 1, START_MS + 3_600_000, seed=1)
    assert error.value.code == "empty_range"
    with pytest.raises(InvalidInput) as error:
        await synthesize(db, "DEMO", "1m", 0, START_MS, seed=1)
    assert error.value.code == "too_many_candles"
    assert await count_rows(db) == 0


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-01-01", START_MS), ("2024-01-01T00:01", START_MS + M),
    ("2024-01-01T00:01:00Z", START_MS + M), ("2024-01-01 02:01:00+02:00", START_MS + M),
    (str(START_MS), START_MS), (" 0 ", 0)])
def test_parse_time_accepted_forms_return_epoch_ms(text: str, expected: int) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["", "tomorrow", "2024-02-30", "1.5"])
def test_parse_time_invalid_text_is_clear_error(text: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_time(text)
    assert error.value.code == "invalid_time"
    assert "ISO date" in error.value.message
