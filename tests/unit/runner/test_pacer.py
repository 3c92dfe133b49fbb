"""The pacer: pure release-time arithmetic over readings of trio's clock (no I/O)."""

from __future__ import annotations

import pytest

from livesim.runner.pacing import MAX, Pacer, parse_speed, speed_from_text, speed_to_text

MINUTE_MS = 60_000


def test_interval_is_timeframe_over_speed() -> None:
    assert Pacer.start(MINUTE_MS, 60.0, now=0.0).interval_s == pytest.approx(1.0)
    assert Pacer.start(MINUTE_MS, 600.0, now=0.0).interval_s == pytest.approx(0.1)


def test_unpaced_has_no_interval() -> None:
    pacer = Pacer.start(MINUTE_MS, MAX, now=5.0)
    assert pacer.unpaced
    assert pacer.interval_s == 0.0
    pacer.released(5.0)
    assert pacer.next_release == 5.0


def test_first_candle_is_due_at_start_and_next_one_interval_later() -> None:
    pacer = Pacer.start(MINUTE_MS, 60.0, now=10.0)
    assert pacer.next_release == 10.0
    pacer.released(10.0)
    assert pacer.next_release == pytest.approx(11.0)


def test_late_wake_up_does_not_drift() -> None:
    pacer = Pacer.start(MINUTE_MS, 60.0, now=0.0)
    pacer.released(0.0)
    pacer.released(1.3)  # woke 0.3 s late for the candle due at 1.0
    assert pacer.next_release == pytest.approx(2.0)


def test_far_behind_counts_from_now_instead_of_bursting() -> None:
    pacer = Pacer.start(MINUTE_MS, 60.0, now=0.0)
    pacer.released(0.0)
    pacer.released(9.0)  # eight intervals late: no burst of eight candles
    assert pacer.next_release == pytest.approx(10.0)


def test_pause_keeps_the_remaining_wait_and_resume_restores_it() -> None:
    pacer = Pacer.start(MINUTE_MS, 60.0, now=0.0)
    pacer.released(0.0)  # next due at 1.0
    pacer.pause(0.25)  # 0.75 s still to wait
    pacer.pause(0.5)  # a repeated pause changes nothing
    pacer.resume(100.0)
    assert pacer.next_release == pytest.approx(100.75)
    pacer.resume(200.0)  # a repeated resume changes nothing
    assert pacer.next_release == pytest.approx(100.75)


def test_speed_change_rescales_the_remaining_wait() -> None:
    pacer = Pacer.start(MINUTE_MS, 60.0, now=0.0)
    pacer.released(0.0)  # due at 1.0
    pacer.set_speed(120.0, now=0.5)  # 0.5 s left at 60x is 0.25 s at 120x
    assert pacer.next_release == pytest.approx(0.75)
    assert pacer.interval_s == pytest.approx(0.5)


def test_speed_change_while_paused_rescales_what_resume_waits() -> None:
    pacer = Pacer.start(MINUTE_MS, 60.0, now=0.0)
    pacer.released(0.0)
    pacer.pause(0.0)  # 1.0 s left
    pacer.set_speed(30.0, now=5.0)  # twice as slow: 2.0 s
    pacer.resume(10.0)
    assert pacer.next_release == pytest.approx(12.0)


def test_from_max_to_paced_waits_one_new_interval() -> None:
    pacer = Pacer.start(MINUTE_MS, MAX, now=0.0)
    pacer.set_speed(60.0, now=3.0)
    assert pacer.next_release == pytest.approx(4.0)


@pytest.mark.parametrize(("value", "parsed"), [(1, 1.0), (200, 200.0), (2.5, 2.5), ("max", MAX)])
def test_parse_speed_accepts_range_and_max(value: object, parsed: object) -> None:
    assert parse_speed(value, 200.0) == parsed


@pytest.mark.parametrize("value", [0, 0.99, 201, True, "fast", None, "MAX"])
def test_parse_speed_refuses_the_rest(value: object) -> None:
    with pytest.raises(ValueError, match="speed"):
        parse_speed(value, 200.0)


@pytest.mark.parametrize("speed", [1.0, 2.5, 200.0, 0.123457, MAX])
def test_speed_text_round_trip(speed: float | str) -> None:
    assert speed_from_text(speed_to_text(speed)) == speed
