"""A real hypercorn serving the app on a free loopback port, for the client commands."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from livesim.app import create_app
from livesim.config import Settings
from livesim.db.bridge import Database
from livesim.market.store import upsert_candles
from tests.support.server import serve_app
from tests.support.stubs import candle_series


@pytest.fixture
async def base_url(db: Database, database_url: str, schema_name: str) -> AsyncIterator[str]:
    await upsert_candles(db, "TEST", "1m", candle_series(600))
    app = create_app(Settings(auth_mode="dev", max_speed=100_000), database_url,
                     schema=schema_name)
    async with serve_app(app) as url:
        yield url
