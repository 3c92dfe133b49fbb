"""Small helpers for API tests: create a session, poll, read a stream."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import aclosing
from typing import Any

import httpx
import trio
from httpx_sse import aconnect_sse

from tests.support.stubs import START_MS

MINUTE = 60_000


def session_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"profileSlug": "sma-cross", "symbol": "TEST", "timeframe": "1m",
                            "startMs": START_MS, "endMs": START_MS + 60 * MINUTE,
                            "speed": "max", "config": {"fast": 3, "slow": 8}}
    body.update(overrides)
    return body


async def eventually(check: Callable[[], Any], within_s: float = 10.0,
                     interval: float = 0.02) -> Any:
    """Poll an async ``check`` until it returns something truthy (no blind sleeps)."""
    with trio.fail_after(within_s):
        while True:
            result = await check()
            if result:
                return result
            await trio.sleep(interval)


async def wait_status(client: httpx.AsyncClient, session_id: str, *statuses: str,
                      within_s: float = 10.0) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        body: dict[str, Any] = (await client.get(f"/api/sim/sessions/{session_id}")).json()
        return body if body["status"] in statuses else None

    result: dict[str, Any] = await eventually(check, within_s)
    return result


async def last_seq(client: httpx.AsyncClient, session_id: str) -> int:
    seq: int = (await client.get(f"/api/sim/sessions/{session_id}")).json()["lastSeq"]
    return seq


async def wait_seq(client: httpx.AsyncClient, session_id: str, seq: int) -> None:
    """Wait until the session's log reaches ``seq``."""
    async def reached() -> bool:
        return await last_seq(client, session_id) >= seq

    await eventually(reached)


async def all_events(client: httpx.AsyncClient, session_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    next_seq = 1
    while True:
        page = (await client.get(f"/api/sim/sessions/{session_id}/events",
                                 params={"fromSeq": next_seq, "limit": 1000})).json()
        events += page["events"]
        next_seq = page["nextSeq"]
        if not page["hasMore"]:
            return events


async def read_stream(client: httpx.AsyncClient, session_id: str, *, limit: int | None = None,
                      headers: dict[str, str] | None = None, params: dict[str, Any] | None = None,
                      comments: list[str] | None = None) -> list[tuple[str, str, str]]:
    """(id, event, data) of each event until the stream ends or ``limit`` events."""
    received: list[tuple[str, str, str]] = []
    async with aconnect_sse(client, "GET", f"/api/sim/sessions/{session_id}/stream",
                            headers=headers or {}, params=params) as source:
        assert source.response.status_code == 200, await source.response.aread()
        async with aclosing(source.aiter_sse()) as events:
            async for sse in events:
                if not sse.data:  # the retry: line and heartbeat comments dispatch no event
                    continue
                received.append((sse.id, sse.event, sse.data))
                if limit is not None and len(received) >= limit:
                    break
        await source.response.aclose()
    return received
