"""Serving livesim with hypercorn's trio worker, and the zero-config demo."""

from __future__ import annotations

import gc
import logging
import signal
from functools import partial

import hypercorn.trio
import trio
from hypercorn.config import Config

from livesim.app import create_app
from livesim.app.state import state_of
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
    """``DATABASE_URL``, or the embedded server's (started here, blocking) when unset."""
    if settings.database_url:
        return settings.database_url
    from livesim.db.embedded import embedded_database_url

    LOGGER.info("DATABASE_URL is not set: starting the embedded PostgreSQL in %s",
                settings.data_dir / "pg")
    return embedded_database_url(settings.data_dir)


async def seed_demo(url: str) -> dict[str, object]:
    """Migrate and make sure the demo market exists (idempotent)."""
    from livesim.market.commands import synthesize

    async with open_database(url) as db:
        await migrate(db)
        end_ms = DEMO_START_MS + DEMO_DAYS * 86_400_000
        return await synthesize(db, DEMO_SYMBOL, DEMO_TIMEFRAME, DEMO_START_MS, end_ms,
                                DEMO_SEED)


async def _until_signal_or(failed: trio.Event) -> None:
    """Return on SIGINT/SIGTERM, or when the background services have died."""
    async with trio.open_nursery() as nursery:
        async def on_signal() -> None:
            with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
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
    await hypercorn.trio.serve(app, hypercorn_config(settings),
                               shutdown_trigger=partial(_until_signal_or, health.failed),
                               task_status=task_status)
    if health.failed.is_set():
        raise ServicesDied("the background services died") from health.error


def print_next_steps(settings: Settings, bound: list[str]) -> None:
    base = bound[0] if bound else f"http://{settings.host}:{settings.port}"
    user = ' -H "X-Dev-User: alice"' if settings.auth_mode == "dev" else ""
    print(f"""
livesim is serving on {base}

Try it:
  curl -s{user} -X POST {base}/api/sim/sessions -H 'Content-Type: application/json' \\
    -d '{{"profileSlug":"sma-cross","symbol":"{DEMO_SYMBOL}","timeframe":"{DEMO_TIMEFRAME}",\
"startMs":{DEMO_START_MS},"endMs":{DEMO_START_MS + 86_400_000},"speed":60}}'
  curl -N{user} {base}/api/sim/sessions/<id>/stream
  curl -s{user} -X POST {base}/api/sim/sessions/<id>/control -H 'Content-Type: application/json' \\
    -d '{{"action":"pause"}}'     # then "resume", "stop", or {{"action":"speed","speed":200}}
""", flush=True)


# The cyclic GC's default first threshold (700 allocations) makes a fan-out round of
# 1,000 streams stop for collections many times; measured by `just bench` (c): p99
# 240 ms -> 67 ms.  Nearly all garbage here dies by reference counting anyway.
GC_THRESHOLDS = (100_000, 50, 1000)


def tune_gc() -> None:
    """Freeze what start-up allocated (it lives for good) and collect less often."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def run_server(settings: Settings, *, demo: bool) -> None:
    """Blocking entry point of ``livesim serve``."""
    url = database_url(settings)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            bound = await nursery.start(partial(serve, settings, url, demo=demo))
            tune_gc()
            print_next_steps(settings, bound)

    trio.run(main)
