"""pause / resume / stop / speed through the API, against a paced session."""

from __future__ import annotations

import httpx
import trio

from tests.support.api import eventually, last_seq, session_body, wait_seq, wait_status

INTERVAL_S = 0.1  # 1m candles at 600x


async def control(client: httpx.AsyncClient, session_id: str, action: str,
                  **extra: object) -> httpx.Response:
    return await client.post(f"/api/sim/sessions/{session_id}/control",
                             json={"action": action, **extra})


async def test_control_pause_holds_events_and_resume_continues(
        client: httpx.AsyncClient) -> None:
    session_id = (await client.post("/api/sim/sessions", json=session_body(speed=600))).json()["id"]
    await wait_seq(client, session_id, 8)
    response = await control(client, session_id, "pause")
    assert response.status_code == 200
    assert response.json()["status"] == "paused"
    await trio.sleep(INTERVAL_S * 1.5)  # at most the candle in flight lands
    held = await last_seq(client, session_id)
    await trio.sleep(INTERVAL_S * 5)
    assert await last_seq(client, session_id) == held
    repeat = await control(client, session_id, "pause")
    assert repeat.status_code == 200
    assert repeat.json()["status"] == "paused"
    assert (await control(client, session_id, "resume")).json()["status"] == "running"
    await wait_seq(client, session_id, held + 4)


async def test_control_stop_ends_with_session_stopped_and_repeat_is_noop(
        client: httpx.AsyncClient) -> None:
    session_id = (await client.post("/api/sim/sessions", json=session_body(speed=600))).json()["id"]
    await wait_seq(client, session_id, 5)
    response = await control(client, session_id, "stop")
    assert response.status_code == 200
    assert response.json()["status"] == "stopped"

    async def stopped_event() -> bool:
        page = (await client.get(f"/api/sim/sessions/{session_id}/events",
                                 params={"limit": 1000})).json()
        return page["events"][-1]["type"] == "session_stopped"

    await eventually(stopped_event)
    assert (await control(client, session_id, "stop")).status_code == 200
    conflict = await control(client, session_id, "resume")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "invalid_transition"


async def test_control_speed_then_resume_finished_is_409(client: httpx.AsyncClient) -> None:
    session_id = (await client.post("/api/sim/sessions", json=session_body(speed=60))).json()["id"]
    response = await control(client, session_id, "speed", speed="max")
    assert response.status_code == 200
    assert response.json()["speed"] == "max"
    await wait_status(client, session_id, "finished")
    for action in ("resume", "pause"):
        conflict = await control(client, session_id, action)
        assert conflict.status_code == 409
        assert "finished" in conflict.json()["error"]["message"]
    late_speed = await control(client, session_id, "speed", speed=5)
    assert late_speed.status_code == 409  # a finished session has no speed to change
    # the body is checked before the session's status: a bad speed is a 400 either way
    assert (await control(client, session_id, "speed", speed=0)).status_code == 400


async def test_control_bad_requests_are_400(client: httpx.AsyncClient) -> None:
    session_id = (await client.post("/api/sim/sessions", json=session_body(speed=60))).json()["id"]
    assert (await control(client, session_id, "rewind")).status_code == 400
    assert (await control(client, session_id, "speed", speed=-3)).status_code == 400
    assert (await control(client, session_id, "pause", speed=3)).status_code == 400
    await control(client, session_id, "stop")
