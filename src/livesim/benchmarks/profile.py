"""Where the server's CPU goes: a summary of a py-spy ``--format raw`` profile.

py-spy (``pip install py-spy``, a sampling profiler that attaches to a running
process) writes one line per distinct stack, ``frame;frame;...;leaf count``.  The
summary gives the share of samples per leaf function (self time), per function
anywhere on the stack (inclusive time), and per area of the code (the package of
the innermost livesim frame, else the library the leaf is in).

    python -m livesim.benchmarks.profile FILE
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import TextIO

TOP = 18
# "func (path/to/file.py:123)" -> ("func", "path/to/file.py")
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]+)(?::\d+)?\)$")


def _name(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    path = match["file"]
    for marker in ("site-packages/", "/lib/python3.11/", "/src/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match['func']} ({path})"


ENTRY_MODULES = ("livesim/server.py", "livesim/cli.py", "livesim/__main__.py")


def _area(stack: list[str]) -> str:
    for frame in reversed(stack):
        if "livesim/" in frame and not any(entry in frame for entry in ENTRY_MODULES):
            match = _FRAME.match(frame)
            path = match["file"] if match else frame
            return "livesim/" + path.split("livesim/", 1)[1].split("/")[0].removesuffix(".py")
    leaf = _name(stack[-1]) if stack else "?"
    inner = leaf.rsplit("(", 1)[-1]
    return inner.split("/")[0].removesuffix(".py)").removesuffix(")")


def summarize(path: Path, out: TextIO) -> None:
    """Print the top self / inclusive / area shares of the raw profile at ``path``."""
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        # py-spy puts the thread first ("process ... thread ..."), skip non-frames
        stack = [f for f in stack_text.split(";") if _FRAME.match(f)]
        if not stack:
            continue
        total += count
        self_time[_name(stack[-1])] += count
        for name in {_name(f) for f in stack}:
            inclusive[name] += count
        areas[_area(stack)] += count
    if not total:
        print("profile: no samples", file=out)
        return
    print(f"server profile: {total:,} samples (py-spy, 250 Hz, on-CPU only)", file=out)
    for title, counter in (("by area", areas), ("self time", self_time),
                           ("inclusive time", inclusive)):
        print(f"  {title}:", file=out)
        for name, count in counter.most_common(TOP if title != "by area" else 12):
            print(f"    {100 * count / total:5.1f}%  {name}", file=out)


if __name__ == "__main__":
    summarize(Path(sys.argv[1]), sys.stdout)
