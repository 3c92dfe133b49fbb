from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from livesim.db.bridge import Database, open_database
from livesim.db.migrate import MigrationError, discover, is_up_to_date, migrate
from livesim.db.queries import sql_dir
from livesim.eventlog import record_from_row
from livesim.sim.events import canonical_json


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


async def test_migrate_0008_rows_written_as_jsonb_read_back_canonical(
        db: Database, database_url: str, tmp_path: Path) -> None:
    """A log written before payloads were stored as text streams the same bytes after."""
    shutil.copytree(sql_dir(), tmp_path / "sql")
    for later in (tmp_path / "sql" / "migrations").glob("*.sql"):
        if int(later.name[:4]) >= 8:
            later.unlink()
    schema = f"legacy_{uuid.uuid4().hex[:12]}"
    await db.execute_sql(f'CREATE SCHEMA "{schema}"')
    try:
        async with open_database(database_url, schema=schema) as old:
            await migrate(old, tmp_path / "sql")
            await old.execute_sql(
                "INSERT INTO sim_sessions (id, user_id, profile_slug, symbol, timeframe, "
                "start_ms, end_ms, speed, config, status) VALUES "
                "('00000000-0000-4000-8000-000000000001', 'u', 'sma-cross', 'X', '1m', "
                "0, 60000, 'max', '{}', 'finished')")
            payload = {"unrealizedPnl": 0.1, "cash": 1e-07, "note": "a, b: c", "qty": 2}
            await old.execute_sql(
                "INSERT INTO sim_events (session_id, seq, ts, type, payload) VALUES "
                "('00000000-0000-4000-8000-000000000001', 1, 0, 'equity', $1::jsonb)",
                json.dumps(payload))
            await migrate(old)
            rows = await old.fetch_sql("SELECT seq, ts, type, payload, reencode FROM sim_events")
            assert rows[0]["payload"] != canonical_json(payload)  # jsonb's form, kept
            assert record_from_row(rows[0]).payload_json == canonical_json(payload)
    finally:
        await db.execute_sql(f'DROP SCHEMA "{schema}" CASCADE')
