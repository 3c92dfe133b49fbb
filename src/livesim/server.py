"""Serving livesim with hypercorn's trio worker, and the zero-config demo."""

from __future__ import annotations

import atexit
import gc
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
from functools import partial

import hypercorn.trio
import trio
from hypercorn.config import Config

from livesim.app import create_app
from livesim.app.state import state_of
from livesim.app.web import WEB_DIST
from livesim.config import Settings
from livesim.db.bridge import open_database
from livesim.db.migrate import migrate

LOGGER = logging.getLogger("livesim")
DEMO_SYMBOL = "DEMO-BTC"
DEMO_TIMEFRAME = "1m"
DEMO_START_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
DEMO_DAYS = 7
DEMO_SEED = 42


class ServicesDied(RuntimeError):
    """The process's background services died: exit non-zero so it is restarted."""


def database_url(settings: Settings) -> str:
    """:func:`running_database`'s URL, the embedded server stopping at process exit."""
    stack = ExitStack()
    url = stack.enter_context(running_database(settings))
    atexit.register(stack.close)
    return url


@contextmanager
def running_database(settings: Settings) -> Iterator[str]:
    """``DATABASE_URL``, or the embedded server's URL while this block runs.

    The embedded server is started here (blocking: call it before ``trio.run``) and
    stopped on exit unless another livesim process still uses it.
    """
    if settings.database_url:
        yield settings.database_url
        return
    from livesim.db.embedded import embedded_server, pg_dir

    LOGGER.info("DATABASE_URL is not set: starting the embedded PostgreSQL in %s",
                pg_dir(settings.data_dir))
    with embedded_server(settings.data_dir) as url:
        yield url


async def seed_demo(url: str) -> dict[str, object]:
    """Migrate and make sure the demo market exists (idempotent)."""
    from livesim.market.commands import synthesize

    async with open_database(url) as db:
        await migrate(db)
        end_ms = DEMO_START_MS + DEMO_DAYS * 86_400_000
        return await synthesize(db, DEMO_SYMBOL, DEMO_TIMEFRAME, DEMO_START_MS, end_ms,
                                DEMO_SEED)


# SIGHUP: the terminal closed (a tmux pane, an ssh session); stop as cleanly.
SHUTDOWN_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


async def _until_signal_or(signals: AsyncIterator[int], failed: trio.Event) -> None:
    """Return on a shutdown signal, or when the background services have died."""
    async with trio.open_nursery() as nursery:
        async def on_signal() -> None:
            async for _ in signals:
                LOGGER.info("shutting down")
                nursery.cancel_scope.cancel()

        async def on_failure() -> None:
            await failed.wait()
            nursery.cancel_scope.cancel()

        nursery.start_soon(on_signal)
        nursery.start_soon(on_failure)


def hypercorn_config(settings: Settings) -> Config:
    config = Config()
    config.bind = [f"{settings.host}:{settings.port}"]
    config.accesslog = None
    config.graceful_timeout = 3.0
    return config


async def serve(settings: Settings, url: str, *, demo: bool = False,
                task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
    """Migrate (and seed the demo market), then serve until SIGINT/SIGTERM."""
    if demo:
        await seed_demo(url)
    app = create_app(settings, url)
    health = state_of(app).health
    config = hypercorn_config(settings)
    # a Logger (not "-"): hypercorn adds no handler of its own, so "Running on" is
    # logged once, through the process's logging set-up
    config.errorlog = logging.getLogger("hypercorn.error")
    # The receiver is open before anything is served, so a Ctrl-C at any moment after
    # (even while the banner prints) is a clean shutdown, never a KeyboardInterrupt.
    with trio.open_signal_receiver(*SHUTDOWN_SIGNALS) as signals:
        await hypercorn.trio.serve(
            app, config, shutdown_trigger=partial(_until_signal_or, signals, health.failed),
            task_status=task_status)
    if health.failed.is_set():
        raise ServicesDied("the background services died") from health.error


def print_next_steps(settings: Settings, bound: list[str]) -> None:
    base = bound[0] if bound else f"http://{settings.host}:{settings.port}"
    where = "" if base == "http://127.0.0.1:8000" else f" --url {base}"
    stops_db = "" if settings.database_url else " and the embedded PostgreSQL it started"
    built = (WEB_DIST / "index.html").is_file()
    page = "" if built else " (build it first: ./dev web)"
    print(f"""
livesim is serving on {base}
  the replay desk: {base}/{page}    API reference: {base}/docs

Or in another terminal (each line pastes as it is):
  ID=$(.venv/bin/livesim sessions create{where} --profile sma-cross --symbol {DEMO_SYMBOL} \\
       --timeframe 5m --start 2024-01-01 --end 2024-01-03 --speed 60 \\
       | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
  .venv/bin/livesim watch{where} $ID      # keys: p pause, r resume, +/- speed, s stop, q quit
  .venv/bin/livesim sessions export{where} $ID trades
Ctrl-C here stops the server{stops_db}.
""", flush=True)


# The cyclic GC's default first threshold (700 allocations) makes a fan-out round of
# 1,000 streams stop for collections many times (`just bench` (e): p99 240 -> 67 ms at
# 100,000).  And a round keeps every stream's write in flight at once (trio yields
# after each send), ~30 live objects each: at 5,000 streams a process passed 100,000
# in mid-round every round, and each young collection traversed them all, freed
# nothing and took 80-165 ms (10,000 streams over 2 processes: p99 0.88-1.0 s -> 0.47-
# 0.52 s at 1,000,000; paced (d) p99 8.2 -> 6.2 ms).  Nearly all garbage here dies by
# reference counting anyway, so few cycles wait for a collection.
GC_THRESHOLDS = (1_000_000, 50, 1000)


def tune_gc() -> None:
    """Freeze what start-up allocated (it lives for good) and collect less often."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def run_server(settings: Settings, *, demo: bool) -> None:
    """Blocking entry point of ``livesim serve``: returns after SIGINT/SIGTERM."""

    async def main(url: str) -> None:
        async with trio.open_nursery() as nursery:
            bound = await nursery.start(partial(serve, settings, url, demo=demo))
            tune_gc()
            print_next_steps(settings, bound)

    with terminal_foreground(), running_database(settings) as url:
        trio.run(main, url)


@contextmanager
def terminal_foreground() -> Iterator[None]:
    """Be the terminal's foreground process group while serving.

    Ctrl-C is sent to the whole foreground group: under ``just run`` that is just, its
    shell and livesim, and just reports "interrupted by SIGINT" (exit 130) however
    cleanly livesim stops.  In a group of its own in the foreground, livesim alone
    gets Ctrl-C, stops, and the wrapper sees a clean exit.  Nothing changes when
    livesim already leads its group (started from a shell) or has no terminal.
    """
    try:
        fd = sys.stdin.fileno()
        if not os.isatty(fd) or os.tcgetpgrp(fd) != os.getpgrp() or os.getpid() == os.getpgrp():
            yield
            return
    except (OSError, ValueError):
        yield
        return
    previous = os.getpgrp()
    _set_foreground(fd, new_group=True)
    try:
        yield
    finally:
        _set_foreground(fd, group=previous)


def _set_foreground(fd: int, *, new_group: bool = False, group: int = 0) -> None:
    # tcsetpgrp from a background group raises SIGTTOU unless it is ignored
    old = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        if new_group:
            os.setpgid(0, 0)
        os.tcsetpgrp(fd, group or os.getpgrp())
    except OSError:
        pass  # the terminal went away: nothing to hand back
    finally:
        signal.signal(signal.SIGTTOU, old)
