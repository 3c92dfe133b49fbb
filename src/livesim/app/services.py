"""The process's long-lived services, owned by one task in quart-trio's app nursery.

``run_services`` opens the trio-asyncio loop and the pool (they must live in one
task for the life of the process: asyncpg objects belong to one loop), applies
migrations, starts the supervisor, hands a :class:`Services` back through
``task_status.started`` and sleeps until shutdown cancels it.
"""

from __future__ import annotations

from dataclasses import dataclass

import trio

from livesim.bus.fanout import Fanout
from livesim.config import Settings
from livesim.db.bridge import Database, open_database
from livesim.db.migrate import migrate
from livesim.runner.supervisor import Supervisor


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    fanout: Fanout
    supervisor: Supervisor


async def run_services(settings: Settings, database_url: str,
                       *, schema: str | None = None,
                       task_status: trio.TaskStatus[Services] = trio.TASK_STATUS_IGNORED
                       ) -> None:
    async with open_database(database_url, schema=schema, max_size=20) as db:
        await migrate(db)
        fanout = Fanout(settings.subscriber_buffer)
        async with trio.open_nursery() as nursery:
            supervisor = await nursery.start(Supervisor(db, fanout).run)
            nursery.start_soon(fanout.run_heartbeat, settings.heartbeat_s)
            task_status.started(Services(settings, db, fanout, supervisor))
            await trio.sleep_forever()
