"""The process's long-lived services, owned by one task in quart-trio's app nursery.

``run_services`` opens the trio-asyncio loop and the pool (they must live in one
task for the life of the process: asyncpg objects belong to one loop), applies
migrations, starts the supervisor, hands a :class:`Services` back through
``task_status.started`` and sleeps until shutdown cancels it.

Crash-only: the services ride out database outages themselves; if one dies anyway
(a bug), :class:`ServiceHealth` records it, ``/healthz`` turns 503 and the server
shuts down so the process exits non-zero and its manager restarts it, rather than
serving HTTP with nothing behind it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import trio

from livesim.bus.fanout import Fanout
from livesim.config import Settings
from livesim.db.bridge import Database, open_database
from livesim.db.migrate import migrate
from livesim.runner.supervisor import Supervisor

LOGGER = logging.getLogger(__name__)


class ServiceHealth:
    """Whether the background services run; set once when they die."""

    def __init__(self) -> None:
        self.failed = trio.Event()
        self.error: BaseException | None = None

    def fail(self, error: BaseException) -> None:
        self.error = error
        self.failed.set()


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    fanout: Fanout
    supervisor: Supervisor


async def run_services(settings: Settings, database_url: str, health: ServiceHealth, *,
                       schema: str | None = None,
                       task_status: trio.TaskStatus[Services] = trio.TASK_STATUS_IGNORED
                       ) -> None:
    """Run the services until cancelled; a failure after start-up is recorded in
    ``health`` (a failure during start-up is raised: the server must not start)."""
    started = False
    try:
        async with open_database(database_url, schema=schema, max_size=20) as db:
            await migrate(db)
            fanout = Fanout(settings.subscriber_buffer)
            async with trio.open_nursery() as nursery:
                supervisor = await nursery.start(
                    Supervisor(db, fanout, lease_ttl_s=settings.lease_ttl_s).run)
                nursery.start_soon(fanout.run_heartbeat, settings.heartbeat_s)
                task_status.started(Services(settings, db, fanout, supervisor))
                started = True
                await trio.sleep_forever()
    except Exception as error:
        if not started:
            raise
        LOGGER.critical("background services died; the process will exit", exc_info=error)
        health.fail(error)
