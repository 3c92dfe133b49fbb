"""Polling that treats a 503 (the database is away) as "not yet"."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.api import eventually

FAULT_WAIT_S = 60.0


async def session_or_none(client: httpx.AsyncClient, session_id: str) -> dict[str, Any] | None:
    try:
        response = await client.get(f"/api/sim/sessions/{session_id}")
    except httpx.TransportError:
        return None
    if response.status_code == 503:
        assert response.headers.get("Retry-After"), "a 503 must say when to retry"
        return None
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def wait_until(client: httpx.AsyncClient, session_id: str, *, status: str | None = None,
                     min_seq: int = 0) -> dict[str, Any]:
    """The session once it has ``status`` (if given) and reaches ``min_seq``."""
    async def check() -> dict[str, Any] | None:
        body = await session_or_none(client, session_id)
        if body is None or body["lastSeq"] < min_seq:
            return None
        return body if status is None or body["status"] == status else None

    result: dict[str, Any] = await eventually(check, FAULT_WAIT_S, interval=0.05)
    return result


async def post_when_up(client: httpx.AsyncClient, url: str, body: dict[str, Any]
                       ) -> httpx.Response:
    """POST, retrying while the answer is 503 (as a client honouring Retry-After would)."""
    async def attempt() -> httpx.Response | None:
        try:
            response = await client.post(url, json=body)
        except httpx.TransportError:
            return None
        return None if response.status_code == 503 else response

    result: httpx.Response = await eventually(attempt, FAULT_WAIT_S, interval=0.1)
    return result


def check_log(events: list[dict[str, Any]], status: str) -> None:
    """Gap-free, exactly one terminal event, last, matching the session's status."""
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    terminal = [e for e in events
                if e["type"] in ("session_finished", "session_stopped", "session_failed")]
    assert len(terminal) == 1, [e["type"] for e in terminal]
    assert events[-1] is terminal[0]
    assert {"session_finished": "finished", "session_stopped": "stopped",
            "session_failed": "failed"}[terminal[0]["type"]] == status
