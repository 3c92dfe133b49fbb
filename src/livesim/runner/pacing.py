"""When each candle is released: pure arithmetic over the trio clock's readings.

A candle of timeframe T is released every T/speed seconds of wall time; ``"max"``
releases as fast as the store takes it.  Pausing remembers how long the next
candle still had to wait, and resuming waits that long again, like a player.
A speed change scales the remaining wait by old/new speed.  Nothing here reads a
clock: callers pass ``now`` (``trio.current_time()``), so a MockClock drives it.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX = "max"
Speed = float | str  # a multiplier, or MAX


def parse_speed(value: object, max_speed: float) -> Speed:
    """Validate a speed from the API: a number in [1, max_speed] or ``"max"``.

    Raises:
        ValueError: with a message fit for a client.
    """
    if value == MAX:
        return MAX
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f'speed must be a number from 1 to {max_speed:g} or "max"')
    speed = float(value)
    if not 1 <= speed <= max_speed:
        raise ValueError(f'speed must be from 1 to {max_speed:g} or "max", got {value}')
    return speed


def speed_to_text(speed: Speed) -> str:
    """The column form of a speed: ``"max"`` or a decimal without exponent."""
    if speed == MAX:
        return MAX
    assert isinstance(speed, float)
    return f"{speed:.6f}".rstrip("0").rstrip(".")


def speed_from_text(text: str) -> Speed:
    return MAX if text == MAX else float(text)


def speed_to_json(speed: Speed) -> float | int | str:
    if isinstance(speed, float) and speed.is_integer():
        return int(speed)
    return speed


@dataclass
class Pacer:
    """Release times of a session's candles on the trio clock.

    Args:
        timeframe_ms: the bar length.
        speed: the multiplier or ``MAX``.
        now: the clock when the first candle is due (released at once).
    """

    timeframe_ms: int
    speed: Speed
    next_release: float
    _paused_remaining: float | None = None

    @classmethod
    def start(cls, timeframe_ms: int, speed: Speed, now: float) -> Pacer:
        return cls(timeframe_ms, speed, now)

    @property
    def unpaced(self) -> bool:
        return self.speed == MAX

    @property
    def interval_s(self) -> float:
        """Wall seconds between two releases (0 when unpaced)."""
        if self.speed == MAX:
            return 0.0
        assert isinstance(self.speed, float)
        return self.timeframe_ms / 1000.0 / self.speed

    def released(self, now: float) -> None:
        """A candle was released: the next one is due one interval after its due time.

        Counting from the due time, not ``now``, keeps late wake-ups from drifting;
        counting from ``now`` when we are far behind avoids a burst to catch up.
        """
        base = self.next_release if now - self.next_release < self.interval_s else now
        self.next_release = base + self.interval_s

    def pause(self, now: float) -> None:
        if self._paused_remaining is None:
            self._paused_remaining = max(0.0, self.next_release - now)

    def resume(self, now: float) -> None:
        if self._paused_remaining is not None:
            self.next_release = now + self._paused_remaining
            self._paused_remaining = None

    def set_speed(self, speed: Speed, now: float) -> None:
        """Change speed; the wait still ahead shrinks or grows by old/new speed."""
        old_interval = self.interval_s
        self.speed = speed
        new_interval = self.interval_s
        if self._paused_remaining is not None:
            self._paused_remaining = _rescale(self._paused_remaining, old_interval, new_interval)
        else:
            remaining = max(0.0, self.next_release - now)
            self.next_release = now + _rescale(remaining, old_interval, new_interval)


def _rescale(remaining: float, old_interval: float, new_interval: float) -> float:
    if old_interval <= 0:
        return new_interval if new_interval > 0 else 0.0
    return remaining * new_interval / old_interval
