"""Fault tests run against a PostgreSQL of their own (see cluster.py)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest

from livesim.db.bridge import Database, open_database
from livesim.db.migrate import migrate
from tests.support.cluster import Cluster, server_binaries


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    binaries = server_binaries()
    if binaries is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs PostgreSQL's server binaries for the fault tests")
        pytest.skip("no PostgreSQL server binaries on this machine")
    cluster = Cluster(binaries)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
async def fault_db(cluster: Cluster, schema_name: str) -> AsyncIterator[Database]:
    """A migrated schema of its own on the private server."""
    async with open_database(cluster.url, max_size=2) as admin:
        await admin.execute_sql(f'CREATE SCHEMA "{schema_name}"')
    async with open_database(cluster.url, schema=schema_name, max_size=2) as database:
        await migrate(database)
        yield database
