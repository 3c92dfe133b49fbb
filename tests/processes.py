"""Serving livesim in child processes, for tests that kill or multiply servers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import trio


def schema_url(database_url: str, schema: str) -> str:
    """The database URL with every connection's search_path set to ``schema``."""
    separator = "&" if "?" in database_url else "?"
    return f"{database_url}{separator}search_path={schema}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def server_process(url: str, port: int) -> AsyncIterator[trio.Process]:
    env = {**os.environ, "DATABASE_URL": url, "LIVESIM_PORT": str(port),
           "LIVESIM_AUTH": "dev", "LIVESIM_MAX_SPEED": "100000"}
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "livesim", "serve"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
        with trio.CancelScope(shield=True), trio.move_on_after(20):
            await process.wait()


async def ready(client: httpx.AsyncClient) -> bool:
    try:
        return (await client.get("/readyz")).status_code == 200
    except httpx.TransportError:
        return False
