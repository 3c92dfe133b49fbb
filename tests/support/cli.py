"""The command-line client run as a user runs it: a child process."""

from __future__ import annotations

import os
import sys

import trio


async def livesim(base_url: str, *args: str, check: bool = True
                  ) -> trio.CompletedProcess[bytes]:
    """Run ``livesim ARGS --url base_url`` in a child process."""
    return await trio.run_process([sys.executable, "-m", "livesim", *args, "--url", base_url],
                                  capture_stdout=True, capture_stderr=True, check=check,
                                  env={**os.environ, "LIVESIM_TOKEN": ""})
