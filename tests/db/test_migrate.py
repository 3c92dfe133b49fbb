from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from livesim.db.bridge import Database
from livesim.db.migrate import MigrationError, discover, is_up_to_date, migrate
from livesim.db.queries import sql_dir


async def test_migrate_twice_applies_nothing_the_second_time(db: Database) -> None:
    assert await migrate(db) == []
    tables = {row["tablename"] for row in await db.fetch_sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
    assert {"sim_sessions", "sim_events", "candles", "schema_migrations"} <= tables
    assert await is_up_to_date(db)


async def test_migrate_changed_applied_file_is_refused(db: Database, tmp_path: Path) -> None:
    shutil.copytree(sql_dir(), tmp_path / "sql")
    first = sorted((tmp_path / "sql" / "migrations").glob("0001_*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited after the fact\n")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        await migrate(db, tmp_path / "sql")
    assert not await is_up_to_date(db, tmp_path / "sql")


async def test_migrate_new_file_is_applied_once(db: Database, tmp_path: Path) -> None:
    shutil.copytree(sql_dir(), tmp_path / "sql")
    version = max(m.version for m in discover()) + 1
    (tmp_path / "sql" / "migrations" / f"{version:04d}_add_probe.sql").write_text(
        "CREATE TABLE probe (x integer);")
    applied = await migrate(db, tmp_path / "sql")
    assert [m.version for m in applied] == [version]
    assert await migrate(db, tmp_path / "sql") == []


async def test_transaction_error_rolls_back(db: Database) -> None:
    async def insert_then_fail() -> None:
        async with db.transaction() as tx:
            await tx.execute_sql("INSERT INTO candles VALUES ('X', '1m', 0, 1, 1, 1, 1, 1)")
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        await insert_then_fail()
    assert await db.fetch_sql("SELECT * FROM candles") == []
