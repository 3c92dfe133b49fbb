"""``livesim watch``: follow a session's SSE stream from a terminal, reconnecting."""

from __future__ import annotations

import json

import httpx
import trio

RECONNECT_S = 2.0


async def watch(base_url: str, session_id: str, from_seq: int, user: str,
                token: str | None) -> None:
    """Print one line per event until the terminal event; resume after a drop."""
    headers = {"Authorization": f"Bearer {token}"} if token else {"X-Dev-User": user}
    last_seq = from_seq - 1
    url = f"{base_url.rstrip('/')}/api/sim/sessions/{session_id}/stream"
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=None)) as client:
        while True:
            try:
                async with client.stream("GET", url, headers={
                        **headers, "Last-Event-ID": str(last_seq)}) as response:
                    if response.status_code == 204:
                        print("-- the session has ended; nothing newer")
                        return
                    if response.status_code != 200:
                        print(f"-- {response.status_code}: {(await response.aread()).decode()}")
                        return
                    async for line in response.aiter_lines():
                        if not line.startswith("data: "):
                            continue
                        event = json.loads(line[6:])
                        last_seq = event["seq"]
                        print(_describe(event), flush=True)
                        if event["type"] in ("session_finished", "session_stopped",
                                             "session_failed"):
                            return
            except httpx.TransportError as error:
                print(f"-- connection lost ({error.__class__.__name__}); reconnecting")
                await trio.sleep(RECONNECT_S)


def _describe(event: dict[str, object]) -> str:
    payload = json.dumps(event["payload"], sort_keys=True, separators=(",", ":"))
    return f"{event['seq']:>7} {event['ts']} {event['type']:<16} {payload}"
