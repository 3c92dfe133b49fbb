"""Serving livesim in child processes, for tests that kill or multiply servers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx
import trio

from tests.support.api import eventually


def schema_url(database_url: str, schema: str) -> str:
    """The database URL with every connection's search_path set to ``schema``."""
    separator = "&" if "?" in database_url else "?"
    return f"{database_url}{separator}search_path={schema}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# A short lease, so a killed or frozen server's sessions are adopted within seconds.
LEASE_TTL_S = "1.5"


@asynccontextmanager
async def server_process(url: str, port: int, **settings: str) -> AsyncIterator[trio.Process]:
    """``livesim serve`` on ``port`` over ``url``; ``settings`` are extra LIVESIM_* values."""
    env = {**os.environ, "DATABASE_URL": url, "LIVESIM_PORT": str(port),
           "LIVESIM_AUTH": "dev", "LIVESIM_MAX_SPEED": "100000",
           "LIVESIM_LEASE_TTL_S": LEASE_TTL_S, **settings}
    # LIVESIM_TEST_SERVER_LOG=FILE keeps the servers' output, for a failing test
    log_path = os.environ.get("LIVESIM_TEST_SERVER_LOG")
    log = (os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) if log_path
           else subprocess.DEVNULL)
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "livesim", "serve"], env=env, stdout=log, stderr=log)
    try:
        yield process
    finally:
        if log_path:
            os.close(log)
        if process.returncode is None:
            process.send_signal(signal.SIGCONT)  # a test may have frozen it
            process.terminate()
        with trio.CancelScope(shield=True), trio.move_on_after(20):
            await process.wait()


async def ready(client: httpx.AsyncClient) -> bool:
    try:
        return (await client.get("/readyz")).status_code == 200
    except httpx.TransportError:
        return False


@dataclass
class Served:
    """A server process and a client of it (dev user ``alice``)."""

    process: trio.Process
    client: httpx.AsyncClient


@asynccontextmanager
async def served(url: str, count: int = 1) -> AsyncIterator[list[Served]]:
    """``count`` server processes over ``url``, each ready, each with a client."""
    async with AsyncExitStack() as stack:
        servers = []
        for _ in range(count):
            port = free_port()
            client = await stack.enter_async_context(httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", headers={"X-Dev-User": "alice"},
                timeout=10))
            process = await stack.enter_async_context(server_process(url, port))
            servers.append(Served(process, client))
        for server in servers:
            await eventually(lambda client=server.client: ready(client), within_s=30)
        yield servers
