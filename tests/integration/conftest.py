"""Fixtures of every integration test: a real PostgreSQL, one fresh schema per test,
and the app served by a real hypercorn on a free loopback port over that schema.

``DATABASE_URL`` when set (CI: postgresql://postgres@127.0.0.1:5432/test), otherwise
the embedded server of the zero-config run, in a data folder under .livesim/, stopped
when the session ends.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from livesim.app import create_app
from livesim.config import PROJECT_ROOT, Settings
from livesim.db.bridge import Database, open_database
from livesim.db.migrate import migrate
from tests.support.server import TEST_SETTINGS, Server, insert_candles, serve_app
from tests.support.stubs import candle_series


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    from livesim.db.embedded import embedded_server

    # stopped after the last test, unless another process (a second pytest) uses it
    with embedded_server(Path(os.environ.get("LIVESIM_TEST_DATA_DIR")
                              or PROJECT_ROOT / ".livesim" / "test")) as url:
        yield url


@pytest.fixture
def schema_name() -> str:
    return f"t_{uuid.uuid4().hex[:16]}"


@pytest.fixture
async def db(database_url: str, schema_name: str) -> AsyncIterator[Database]:
    """A migrated, empty schema of its own, dropped after the test."""
    async with open_database(database_url, max_size=4) as admin:
        await admin.execute_sql(f'CREATE SCHEMA "{schema_name}"')
        try:
            async with open_database(database_url, schema=schema_name) as database:
                await migrate(database)
                yield database
        finally:
            await admin.execute_sql(f'DROP SCHEMA "{schema_name}" CASCADE')


@pytest.fixture
def settings() -> Settings:
    return TEST_SETTINGS


@pytest.fixture
async def server(db: Database, database_url: str, schema_name: str,
                 settings: Settings) -> AsyncIterator[Server]:
    await insert_candles(db, "TEST", "1m", candle_series(120))
    app = create_app(settings, database_url, schema=schema_name)
    async with serve_app(app) as url:
        yield Server(url, db, settings, app)


@pytest.fixture
async def client(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as client:
        yield client
