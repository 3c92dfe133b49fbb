"""A process whose background services die exits non-zero instead of serving on."""

from __future__ import annotations

import httpx
import trio

from livesim.db.bridge import Database
from tests.support.api import eventually
from tests.support.cluster import Cluster
from tests.support.processes import free_port, ready, schema_url, server_process


async def test_services_dying_make_the_process_exit_nonzero(
        cluster: Cluster, fault_db: Database, schema_name: str) -> None:
    port = free_port()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}",
                                 headers={"X-Dev-User": "alice"}, timeout=10) as client, \
            server_process(schema_url(cluster.url, schema_name), port) as process:
        await eventually(lambda: ready(client), within_s=30)
        assert (await client.get("/healthz")).status_code == 200
        # Not an outage but a fault no retry mends: the lease renewal's table is gone.
        await fault_db.execute_sql("DROP TABLE livesim_processes CASCADE")
        with trio.fail_after(30):
            code = await process.wait()
        assert code != 0
