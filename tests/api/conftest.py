"""A real hypercorn serving the app on a free loopback port, over a fresh schema."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import hypercorn.trio
import pytest
import trio
from hypercorn.config import Config
from quart_trio import QuartTrio

from livesim.app import create_app
from livesim.app.services import Services
from livesim.app.state import state_of
from livesim.config import Settings
from livesim.db.bridge import Database
from livesim.market.store import upsert_candles
from livesim.sim.candles import Candle
from tests.stubs import candle_series

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


@pytest.fixture
def settings() -> Settings:
    return TEST_SETTINGS


@pytest.fixture
async def server(db: Database, database_url: str, schema_name: str,
                 settings: Settings) -> AsyncIterator[Server]:
    await insert_candles(db, "TEST", "1m", candle_series(120))
    app = create_app(settings, database_url, schema=schema_name)
    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.accesslog = None
    config.graceful_timeout = 0.2
    shutdown = trio.Event()
    async with trio.open_nursery() as nursery:
        bound = await nursery.start(partial(hypercorn.trio.serve, app, config,
                                            shutdown_trigger=shutdown.wait))
        yield Server(bound[0], db, settings, app)
        shutdown.set()


@pytest.fixture
async def client(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as client:
        yield client
