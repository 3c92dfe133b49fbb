"""Gaps: maximal runs of missing grid open times, toMs exclusive."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livesim.errors import InvalidInput
from livesim.market.gaps import find_gaps, grid_ceil

M = 60_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z, on every grid


def minutes(*indexes: int) -> list[int]:
    return [T0 + i * M for i in indexes]


def test_find_gaps_complete_series_returns_none() -> None:
    assert find_gaps(minutes(*range(10)), "1m", T0, T0 + 10 * M) == []


def test_find_gaps_hole_in_middle_returns_one_gap() -> None:
    present = minutes(0, 1, 2, 6, 7, 8, 9)
    assert find_gaps(present, "1m", T0, T0 + 10 * M) == [
        {"fromMs": T0 + 3 * M, "toMs": T0 + 6 * M, "missing": 3}]


def test_find_gaps_hole_at_start_returns_leading_gap() -> None:
    assert find_gaps(minutes(2, 3, 4), "1m", T0, T0 + 5 * M) == [
        {"fromMs": T0, "toMs": T0 + 2 * M, "missing": 2}]


def test_find_gaps_hole_at_end_returns_trailing_gap() -> None:
    assert find_gaps(minutes(0, 1, 2), "1m", T0, T0 + 5 * M) == [
        {"fromMs": T0 + 3 * M, "toMs": T0 + 5 * M, "missing": 2}]


def test_find_gaps_several_holes_returns_each_in_order() -> None:
    present = minutes(1, 2, 4, 7, 8)
    assert find_gaps(present, "1m", T0, T0 + 10 * M) == [
        {"fromMs": T0, "toMs": T0 + M, "missing": 1},
        {"fromMs": T0 + 3 * M, "toMs": T0 + 4 * M, "missing": 1},
        {"fromMs": T0 + 5 * M, "toMs": T0 + 7 * M, "missing": 2},
        {"fromMs": T0 + 9 * M, "toMs": T0 + 10 * M, "missing": 1},
    ]


def test_find_gaps_no_candles_returns_whole_range_as_one_gap() -> None:
    assert find_gaps([], "1h", T0, T0 + 5 * 3_600_000) == [
        {"fromMs": T0, "toMs": T0 + 5 * 3_600_000, "missing": 5}]


def test_find_gaps_start_off_grid_rounds_up_to_grid() -> None:
    # [00:00:30, 00:05) expects 00:01 .. 00:04; 00:00 is before the range
    assert find_gaps(minutes(1, 2, 3, 4), "1m", T0 + 30_000, T0 + 5 * M) == []
    assert find_gaps(minutes(2, 3, 4), "1m", T0 + 30_000, T0 + 5 * M) == [
        {"fromMs": T0 + M, "toMs": T0 + 2 * M, "missing": 1}]


def test_find_gaps_end_off_grid_counts_bar_opening_before_end() -> None:
    # [00:00, 00:02:30) expects 00:00, 00:01, 00:02; the last bar ends at 00:03
    assert find_gaps(minutes(0, 1), "1m", T0, T0 + 2 * M + 30_000) == [
        {"fromMs": T0 + 2 * M, "toMs": T0 + 3 * M, "missing": 1}]


def test_find_gaps_times_outside_range_are_ignored() -> None:
    present = [T0 - M, *minutes(0, 1, 2), T0 + 3 * M, T0 + 50 * M]
    assert find_gaps(present, "1m", T0, T0 + 3 * M) == []


def test_find_gaps_off_grid_and_duplicate_times_fill_nothing() -> None:
    present = [T0, T0, T0 + M + 5, T0 + 2 * M]
    assert find_gaps(present, "1m", T0, T0 + 3 * M) == [
        {"fromMs": T0 + M, "toMs": T0 + 2 * M, "missing": 1}]


def test_find_gaps_daily_grid_uses_utc_midnights() -> None:
    day = 86_400_000
    present = [T0, T0 + 2 * day]
    assert find_gaps(present, "1d", T0 - day // 2, T0 + 3 * day) == [
        {"fromMs": T0 + day, "toMs": T0 + 2 * day, "missing": 1}]


def test_find_gaps_to_minus_from_equals_missing_bars() -> None:
    for gap in find_gaps(minutes(0, 5, 6, 20), "5m", T0, T0 + 60 * M):
        assert gap["toMs"] - gap["fromMs"] == gap["missing"] * 5 * M


def test_find_gaps_unknown_timeframe_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as error:
        find_gaps([], "7m", T0, T0 + M)
    assert error.value.code == "unknown_timeframe"
    assert "1m" in error.value.context["valid"]


@pytest.mark.parametrize(("ts", "expected"), [(0, 0), (1, M), (M, M), (-1, 0), (-M - 1, -M)])
def test_grid_ceil_values_round_up_to_grid(ts: int, expected: int) -> None:
    assert grid_ceil(ts, M) == expected


def brute_force_gaps(present: set[int], step: int, start: int, end: int) -> list[dict[str, int]]:
    gaps: list[dict[str, int]] = []
    for ts in range(grid_ceil(start, step), end, step):
        if ts in present:
            continue
        if gaps and gaps[-1]["toMs"] == ts:
            gaps[-1]["toMs"] += step
            gaps[-1]["missing"] += 1
        else:
            gaps.append({"fromMs": ts, "toMs": ts + step, "missing": 1})
    return gaps


@given(slots=st.sets(st.integers(min_value=-5, max_value=60)),
       start=st.integers(min_value=-3 * M, max_value=30 * M),
       length=st.integers(min_value=1, max_value=40 * M))
def test_find_gaps_matches_brute_force(slots: set[int], start: int, length: int) -> None:
    present = {T0 + slot * M for slot in slots}
    assert find_gaps(sorted(present), "1m", T0 + start, T0 + start + length) == \
        brute_force_gaps(present, M, T0 + start, T0 + start + length)
