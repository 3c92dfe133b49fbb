"""Throughput of the pure simulation core: candles per second for ``sma-cross``.

Replays 1M synthetic candles (a seeded random walk) through a fresh engine and
encodes every event's payload with :func:`~livesim.sim.events.canonical_json`, as the
runner does before writing.  Prints the median of a few runs against the target.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from livesim.sim.candles import Candle
from livesim.sim.engine import build_engine
from livesim.sim.events import canonical_json

TARGET_CANDLES_PER_S = 100_000
MINUTE_MS = 60_000


def synthetic_candles(count: int, seed: int = 42) -> list[Candle]:
    """A seeded geometric random walk with wicks, one candle per minute."""
    rng = random.Random(seed)
    gauss = rng.gauss
    price = 100.0
    candles = []
    for i in range(count):
        open_ = price
        close = round(open_ * (1.0 + gauss(0.0, 0.002)), 2)
        high = round(max(open_, close) * (1.0 + abs(gauss(0.0, 0.001))), 2)
        low = round(min(open_, close) * (1.0 - abs(gauss(0.0, 0.001))), 2)
        candles.append(Candle(i * MINUTE_MS, open_, high, low, close, 1.0))
        price = close
    return candles


def run_once(candles: list[Candle]) -> tuple[float, int]:
    """Replay ``candles`` once; return (seconds, events encoded)."""
    start = time.perf_counter()
    engine = build_engine("sma-cross", {"allowShort": True, "commission": 0.001},
                          timeframe="1m", candle_count=len(candles))
    step = engine.step
    encoded = 0
    for candle in candles:
        for event in step(candle):
            canonical_json(event.payload())
            encoded += 1
    canonical_json(engine.stats())
    return time.perf_counter() - start, encoded


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print candles/s (median) and the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candles", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    candles = synthetic_candles(args.candles)
    rates = []
    events = 0
    for _ in range(args.runs):
        seconds, events = run_once(candles)
        rates.append(args.candles / seconds)
    median = statistics.median(rates)
    verdict = "ok" if median >= TARGET_CANDLES_PER_S else "BELOW TARGET"
    print(f"sim core sma-cross: {median:,.0f} candles/s (median of {args.runs} runs, "
          f"{args.candles:,} candles, {events:,} events encoded per run); "
          f"target >= {TARGET_CANDLES_PER_S:,} candles/s: {verdict}")


if __name__ == "__main__":
    main()
