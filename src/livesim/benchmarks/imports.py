"""Import benchmark: years of 1m candles through ``livesim candles import``, peak memory.

Writes the seeded synthetic market (``candles synth --out``) for ``--years`` of 1m bars
to a temporary file, then imports it with the real command in a child process and
prints the rows, the file size, the wall time and the child's peak RSS (Linux
``ru_maxrss``), twice: the first import writes every row, the second is the no-op
re-import.  Uses ``DATABASE_URL``, or the embedded server when it is unset.

    .venv/bin/python -m livesim.benchmarks.imports --years 5
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from livesim.market.checks import iso
from livesim.market.commands import synthesize_csv
from livesim.sim.candles import DAY_MS

START_MS = 1_577_836_800_000  # 2020-01-01T00:00:00Z
SYMBOL = "BENCH-IMPORT"


def _import(path: Path) -> tuple[float, float, str]:
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run([sys.executable, "-m", "livesim", "candles", "import", str(path),
                           "--symbol", SYMBOL, "--timeframe", "1m"],
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    # RUSAGE_CHILDREN keeps the largest child's peak: each import runs alone here
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode:
        raise SystemExit(f"import failed:\n{done.stderr}")
    if peak_kib < before:
        peak_kib = before
    summary = " ".join(line.strip() for line in done.stdout.splitlines()
                       if '"imported"' in line or '"unchanged"' in line)
    return seconds, peak_kib / 1024, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=float, default=5.0)
    args = parser.parse_args()
    end_ms = START_MS + int(args.years * 365 * DAY_MS)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench-1m.csv"
        started = time.perf_counter()
        written = synthesize_csv(path, SYMBOL, "1m", START_MS, end_ms, seed=1)
        print(f"livesim import benchmark: {written['candles']:,} 1m candles "
              f"({iso(START_MS)} .. {iso(end_ms)}), {path.stat().st_size / 2**20:.0f} MiB CSV, "
              f"written in {time.perf_counter() - started:.0f} s")
        print(f"  database: {'DATABASE_URL' if os.environ.get('DATABASE_URL') else 'embedded'}")
        for label in ("first import", "re-import (no-op)"):
            seconds, peak_mib, summary = _import(path)
            print(f"  {label}: {seconds:.0f} s, {written['candles'] / seconds:,.0f} rows/s, "
                  f"peak RSS {peak_mib:.0f} MiB (target < 200)  {summary}")


if __name__ == "__main__":
    main()
