"""Forward-only schema migrations from ``sql/migrations``.

Each file ``NNNN_name.sql`` is applied once, in order, in its own transaction, and
recorded in ``schema_migrations`` with a SHA-256 of its text.  An applied file
whose text changed since is refused: the database and the code would disagree.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from livesim.db.bridge import Database
from livesim.db.queries import sql_dir

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Any constant will do: it only keeps two processes from migrating at once.
MIGRATION_LOCK_KEY = 7_311_202_611

CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""


class MigrationError(RuntimeError):
    """The migrations on disk and in the database disagree."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path | None = None) -> list[Migration]:
    """The migration files, in version order; a stray or duplicate file is an error."""
    directory = (directory or sql_dir()) / "migrations"
    migrations: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_name.sql")
        migrations.append(Migration(int(match.group(1)), match.group(2), path.read_text()))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations share a version in {directory}")
    return migrations


async def applied(db: Database) -> dict[int, str]:
    """version -> checksum of what the database has applied (empty when none)."""
    exists = await db.call(db.pool.fetchval, "SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return {}
    rows = await db.fetch_sql("SELECT version, checksum FROM schema_migrations")
    return {row["version"]: row["checksum"] for row in rows}


def check_applied(on_disk: list[Migration], done: dict[int, str]) -> list[Migration]:
    """Return the pending migrations; raise if an applied one changed or vanished."""
    by_version = {m.version: m for m in on_disk}
    for version, checksum in sorted(done.items()):
        migration = by_version.get(version)
        if migration is None:
            raise MigrationError(f"migration {version} is applied but its file is missing")
        if migration.checksum != checksum:
            raise MigrationError(
                f"migration {version:04d}_{migration.name}.sql changed after it was applied; "
                "add a new migration instead of editing an applied one")
    return [m for m in on_disk if m.version not in done]


async def migrate(db: Database, directory: Path | None = None) -> list[Migration]:
    """Apply every pending migration; return the ones applied now."""
    on_disk = discover(directory)
    async with db.connection() as conn:
        await conn.execute_sql("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        try:
            await conn.execute_sql(CREATE_LEDGER)
            pending = check_applied(on_disk, await applied(db))
            for migration in pending:
                async with db.transaction() as tx:
                    await tx.execute_sql(migration.sql)
                    await tx.execute_sql(
                        "INSERT INTO schema_migrations (version, name, checksum)"
                        " VALUES ($1, $2, $3)",
                        migration.version, migration.name, migration.checksum)
        finally:
            await conn.execute_sql("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
    return pending


async def is_up_to_date(db: Database, directory: Path | None = None) -> bool:
    """True when every migration on disk is applied, unchanged (for /readyz)."""
    try:
        return not check_applied(discover(directory), await applied(db))
    except MigrationError:
        return False
