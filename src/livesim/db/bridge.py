"""asyncpg driven from trio through trio-asyncio (the pattern of triopg, kept small).

Theory of operation: one trio task opens a trio-asyncio loop and an asyncpg pool
and keeps them for the life of the process (:func:`open_database`).  Every call
passes that loop explicitly to ``aio_as_trio``: hypercorn runs request handlers in
tasks that do not inherit the loop's context variable, so the implicit form fails
there.  Each crossing of the bridge costs ~0.2 ms, so a call does a whole unit of
work (one statement, or a whole transaction's start/commit).  Commit, rollback and
release run shielded, so a cancelled caller never leaves a connection half-way.
asyncpg errors are translated once, here (see :mod:`livesim.db.errors`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
import trio
import trio_asyncio

from livesim.db.errors import is_transient, translate
from livesim.db.queries import QueryRegistry

LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
POOL_CLOSE_TIMEOUT_S = 5.0


class Executor:
    """Runs named queries on something asyncpg can execute on (pool or connection)."""

    def __init__(self, database: Database, target: Any) -> None:
        self._database = database
        self._target = target

    async def run(self, name: str, **params: Any) -> Any:
        """Run query ``name``; the result follows its kind (rows, row, value, none)."""
        query = self._database.queries[name]
        args = query.args(params)
        method = {"rows": self._target.fetch, "row": self._target.fetchrow,
                  "value": self._target.fetchval, "execute": self._target.execute}[query.kind]
        return await self._database.call(method, query.sql, *args)

    async def execute_sql(self, sql: str, *args: Any) -> Any:
        """Run a raw statement (migrations and tests only; the app uses named queries)."""
        return await self._database.call(self._target.execute, sql, *args)

    async def fetch_sql(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self._database.call(self._target.fetch, sql, *args)
        return rows


class Database(Executor):
    """The process's database handle: a pool, its loop and the query registry."""

    def __init__(self, loop: asyncio.AbstractEventLoop, pool: asyncpg.Pool,
                 queries: QueryRegistry, dsn: str, schema: str | None) -> None:
        self.loop = loop
        self.pool = pool
        self.queries = queries
        self.dsn = dsn
        self.schema = schema
        super().__init__(self, pool)

    async def call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Await asyncio-flavoured ``fn(*args)`` from trio, translating its errors."""
        try:
            result: T = await trio_asyncio.aio_as_trio(fn, loop=self.loop)(*args)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError,
                OSError, TimeoutError, asyncio.CancelledError) as error:
            # (asyncio.CancelledError here is asyncpg cancelling its own work on a broken
            # connection: a cancel of ours arrives as trio.Cancelled instead.)
            if is_transient(error):
                # After a restart every pooled connection is dead; have the pool replace
                # them on their next acquire instead of failing once per connection.
                await trio_asyncio.aio_as_trio(self.pool.expire_connections, loop=self.loop)()
            raise translate(error) from error
        return result

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Executor]:
        """Hold one pooled connection (for session-level advisory locks, say)."""
        conn = await self.call(_acquire, self.pool)
        try:
            yield Executor(self, conn)
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(POOL_CLOSE_TIMEOUT_S) as scope:
                try:
                    await self.call(self.pool.release, conn)
                except Exception:  # a connection the database dropped: the pool replaces it
                    LOGGER.debug("released a broken connection", exc_info=True)
            if scope.cancelled_caught:
                conn.terminate()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Executor]:
        """One transaction on one connection: committed on exit, rolled back on error."""
        async with self.connection() as executor:
            transaction = executor._target.transaction()
            await self.call(transaction.start)
            try:
                yield executor
            except BaseException:
                with trio.CancelScope(shield=True):
                    try:
                        await self.call(transaction.rollback)
                    except Exception:  # a dead connection rolled back by itself
                        LOGGER.debug("rollback failed", exc_info=True)
                raise
            with trio.CancelScope(shield=True):
                await self.call(transaction.commit)

    @asynccontextmanager
    async def listen(self, channel: str, buffer: int = 10_000) -> AsyncIterator[Listener]:
        """Receive NOTIFY payloads of ``channel`` on a connection of its own.

        Notifications are wake-ups, never the data itself: when the buffer is full
        one is dropped, and readers must also poll now and then.  When the
        connection ends (a database restart), the channel ends too: the caller
        reconnects and re-reads whatever state a lost notification would have told.
        """
        send, receive = trio.open_memory_channel[str](buffer)

        def on_notify(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
            try:
                send.send_nowait(payload)
            except (trio.WouldBlock, trio.BrokenResourceError, trio.ClosedResourceError):
                LOGGER.warning("dropped a %s notification (reader behind)", channel)

        def on_termination(_conn: Any) -> None:
            send.close()

        async with self.connection() as executor:
            conn = executor._target
            conn.add_termination_listener(on_termination)
            await self.call(conn.add_listener, channel, on_notify)
            try:
                async with receive:
                    yield Listener(executor, receive)
            finally:
                send.close()
                with trio.CancelScope(shield=True), trio.move_on_after(POOL_CLOSE_TIMEOUT_S):
                    try:
                        conn.remove_termination_listener(on_termination)
                        if not conn.is_closed():
                            await self.call(conn.remove_listener, channel, on_notify)
                    except Exception:  # a broken connection: the pool replaces it anyway
                        LOGGER.debug("could not remove the %s listener", channel)


class Listener:
    """A LISTEN connection: its notifications, and a probe that it is still alive."""

    def __init__(self, executor: Executor, notifications: trio.MemoryReceiveChannel[str]
                 ) -> None:
        self._executor = executor
        self.notifications = notifications

    async def probe(self) -> None:
        """A round trip on the listening connection; raises when it is dead."""
        await self._executor.fetch_sql("SELECT 1")


async def _acquire(pool: asyncpg.Pool) -> asyncpg.Connection:
    return await pool.acquire()


async def _create_pool(dsn: str, min_size: int, max_size: int,
                       server_settings: dict[str, str]) -> asyncpg.Pool:
    return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size,
                                     server_settings=server_settings)


@asynccontextmanager
async def open_database(dsn: str, *, schema: str | None = None,
                        queries: QueryRegistry | None = None, min_size: int = 1,
                        max_size: int = 10) -> AsyncIterator[Database]:
    """Open the trio-asyncio loop and an asyncpg pool; close both on exit.

    ``schema`` sets every connection's search_path (tests get a schema each).
    """
    queries = queries or QueryRegistry.load()
    settings = {"application_name": "livesim"}
    if schema:
        settings["search_path"] = schema
    async with trio_asyncio.open_loop() as loop:
        try:
            pool = await trio_asyncio.aio_as_trio(_create_pool, loop=loop)(
                dsn, min_size, max_size, settings)
        except (asyncpg.PostgresError, OSError) as error:
            raise translate(error) from error
        try:
            yield Database(loop, pool, queries, dsn, schema)
        finally:
            with trio.CancelScope(shield=True):
                with trio.move_on_after(POOL_CLOSE_TIMEOUT_S) as scope:
                    await trio_asyncio.aio_as_trio(pool.close, loop=loop)()
                if scope.cancelled_caught:
                    pool.terminate()
