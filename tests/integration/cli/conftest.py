"""A real hypercorn serving the app on a free loopback port, for the client commands."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

import hypercorn.trio
import pytest
import trio
from hypercorn.config import Config

from livesim.app import create_app
from livesim.config import Settings
from livesim.db.bridge import Database
from livesim.market.store import upsert_candles
from tests.support.stubs import candle_series


@pytest.fixture
async def base_url(db: Database, database_url: str, schema_name: str) -> AsyncIterator[str]:
    await upsert_candles(db, "TEST", "1m", candle_series(600))
    app = create_app(Settings(auth_mode="dev", max_speed=100_000), database_url,
                     schema=schema_name)
    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.accesslog = None
    config.graceful_timeout = 0.2
    shutdown = trio.Event()
    async with trio.open_nursery() as nursery:
        bound = await nursery.start(partial(hypercorn.trio.serve, app, config,
                                            shutdown_trigger=shutdown.wait))
        yield bound[0]
        shutdown.set()
