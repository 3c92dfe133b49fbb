"""The API tests' server: its settings, its handle, and candles for it to replay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import hypercorn.trio
import trio
from hypercorn.config import Config
from quart_trio import QuartTrio

from livesim.app.services import Services
from livesim.app.state import state_of
from livesim.config import Settings
from livesim.db.bridge import Database
from livesim.market.store import upsert_candles
from livesim.sim.candles import Candle

TEST_SETTINGS = Settings(auth_mode="dev", heartbeat_s=0.5, max_speed=100_000.0,
                         subscriber_buffer=64)


async def insert_candles(db: Database, symbol: str, timeframe: str,
                         candles: list[Candle]) -> None:
    await upsert_candles(db, symbol, timeframe, candles)


@dataclass
class Server:
    url: str
    db: Database
    settings: Settings
    app: QuartTrio

    @property
    def services(self) -> Services:
        return state_of(self.app).services

    def client(self, user: str = "alice", **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, headers={"X-Dev-User": user},
                                 timeout=httpx.Timeout(10.0), **kwargs)


@asynccontextmanager
async def serve_app(app: QuartTrio) -> AsyncIterator[str]:
    """Serve ``app`` with hypercorn on a free loopback port; yields its base URL."""
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
