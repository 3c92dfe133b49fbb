"""Incremental indicators: O(1) work per candle, no lookback recomputation.

:class:`RollingMean` reproduces pandas' ``Series.rolling(n).mean()`` bit for bit on
positive inputs (Kahan-compensated add and remove, and pandas' rule that a window
of identical values averages to exactly that value).  Matching pandas means an SMA
cross fires on exactly the candle a backtesting.py user sees it fire, and a flat
market never produces a cross out of rounding noise.
"""

from __future__ import annotations

from collections import deque


class RollingMean:
    """Simple moving average of the last ``period`` values."""

    __slots__ = ("period", "_window", "_sum", "_comp_add", "_comp_remove", "_same", "_prev")

    def __init__(self, period: int) -> None:
        self.period = period
        self._window: deque[float] = deque()
        self._sum = 0.0
        # pandas keeps separate compensations for additions and removals.
        self._comp_add = 0.0
        self._comp_remove = 0.0
        self._same = 0
        self._prev = float("nan")

    def update(self, value: float) -> float | None:
        """Add ``value``; return the mean once ``period`` values were seen, else None."""
        window = self._window
        window.append(value)
        count = len(window)
        total = self._sum
        if count > self.period:
            count -= 1
            y = -window.popleft() - self._comp_remove
            t = total + y
            self._comp_remove = t - total - y
            total = t
        y = value - self._comp_add
        t = total + y
        self._comp_add = t - total - y
        self._sum = t
        if value == self._prev:
            same = self._same = self._same + 1
        else:
            same = self._same = 1
            self._prev = value
        if count < self.period:
            return None
        if same >= count:
            return value
        return t / count


class WilderRsi:
    """Relative Strength Index with Wilder's smoothing.

    The first average gain/loss is the simple mean of the first ``period`` changes;
    afterwards ``avg = (avg * (period - 1) + change) / period``.  With no losses in
    the window the RSI is 100, with neither gains nor losses it is 50.
    """

    __slots__ = ("period", "_prev_close", "_count", "_gain", "_loss")

    def __init__(self, period: int) -> None:
        self.period = period
        self._prev_close: float | None = None
        self._count = 0
        self._gain = 0.0
        self._loss = 0.0

    def update(self, close: float) -> float | None:
        """Add a close; return the RSI once ``period`` changes were seen, else None."""
        prev = self._prev_close
        self._prev_close = close
        if prev is None:
            return None
        change = close - prev
        gain = change if change > 0 else 0.0
        loss = -change if change < 0 else 0.0
        n = self.period
        self._count += 1
        if self._count <= n:
            self._gain += gain
            self._loss += loss
            if self._count < n:
                return None
            self._gain /= n
            self._loss /= n
        else:
            self._gain = (self._gain * (n - 1) + gain) / n
            self._loss = (self._loss * (n - 1) + loss) / n
        if self._loss == 0.0:
            return 50.0 if self._gain == 0.0 else 100.0
        return 100.0 - 100.0 / (1.0 + self._gain / self._loss)


class RollingExtreme:
    """Highest (``highest=True``) or lowest value of the last ``period`` values.

    A monotonic deque keeps only candidates that can still become the extreme, so
    each value is pushed and popped at most once: amortised O(1).
    """

    __slots__ = ("period", "_highest", "_deque", "_index")

    def __init__(self, period: int, *, highest: bool) -> None:
        self.period = period
        self._highest = highest
        self._deque: deque[tuple[int, float]] = deque()
        self._index = 0

    def update(self, value: float) -> float | None:
        """Add ``value``; return the extreme once ``period`` values were seen, else None."""
        dq = self._deque
        index = self._index
        self._index = index + 1
        if self._highest:
            while dq and dq[-1][1] <= value:
                dq.pop()
        else:
            while dq and dq[-1][1] >= value:
                dq.pop()
        dq.append((index, value))
        if dq[0][0] <= index - self.period:
            dq.popleft()
        return dq[0][1] if self._index >= self.period else None
