"""The sessions API end to end through a real hypercorn and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
import trio

from livesim.sim.candles import Candle
from tests.support.api import MINUTE, all_events, session_body, wait_status
from tests.support.server import Server, insert_candles
from tests.support.stubs import START_MS, candle_series


async def test_create_max_speed_session_finishes_with_gapless_log(
        client: httpx.AsyncClient) -> None:
    response = await client.post("/api/sim/sessions", json=session_body())
    assert response.status_code == 201, response.text
    session = response.json()
    assert session["status"] in ("running", "finished")
    final = await wait_status(client, session["id"], "finished")
    assert final["progress"] == 1.0
    events = await all_events(client, session["id"])
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert final["lastSeq"] == len(events)
    assert events[0]["type"] == "session_started"
    assert events[-1]["type"] == "session_finished"
    assert sum(e["type"] == "candle" for e in events) == 60
    assert sum(e["type"] == "equity" for e in events) == 60


async def test_create_market_with_hole_fails_session_with_gaps(
        server: Server, client: httpx.AsyncClient) -> None:
    candles = [c for i, c in enumerate(candle_series(30)) if i not in (10, 11, 12)]
    await insert_candles(server.db, "HOLEY", "1m", candles)
    response = await client.post("/api/sim/sessions", json=session_body(
        symbol="HOLEY", endMs=START_MS + 30 * MINUTE))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "candle_gaps"
    gaps = error["gaps"]  # beside details, which lists the field
    assert len(gaps) == 1
    assert gaps[0]["missing"] == 3
    assert gaps[0]["fromMs"] == START_MS + 10 * MINUTE
    session = (await client.get(f"/api/sim/sessions/{error['sessionId']}")).json()
    assert session["status"] == "failed"
    assert session["error"]["code"] == "candle_gaps"


async def test_create_with_skip_policy_lists_gaps_in_session_started(
        server: Server, client: httpx.AsyncClient) -> None:
    candles = [c for i, c in enumerate(candle_series(30)) if i != 5]
    await insert_candles(server.db, "HOLEY", "1m", candles)
    response = await client.post("/api/sim/sessions", json=session_body(
        symbol="HOLEY", endMs=START_MS + 30 * MINUTE, gapPolicy="skip"))
    assert response.status_code == 201, response.text
    await wait_status(client, response.json()["id"], "finished")
    events = await all_events(client, response.json()["id"])
    assert events[0]["payload"]["gaps"][0]["missing"] == 1
    assert sum(e["type"] == "candle" for e in events) == 29


@pytest.mark.parametrize(("change", "field"), [
    ({"profileSlug": "no-such-profile"}, "profileSlug"),
    ({"profileSlug": 7}, "profileSlug"),
    ({"symbol": "bad symbol!"}, "symbol"),
    ({"timeframe": "7m"}, "timeframe"),
    ({"startMs": "yesterday"}, "startMs"),
    ({"startMs": True}, "startMs"),
    ({"endMs": START_MS - 1}, "endMs"),
    ({"speed": 0}, "speed"),
    ({"speed": 1_000_000}, "speed"),
    ({"speed": "fast"}, "speed"),
    ({"config": []}, "config"),
    ({"config": {"fast": 9, "slow": 3}}, "config"),
    ({"config": {"nope": 1}}, "config"),
    ({"gapPolicy": "ignore"}, "gapPolicy"),
    ({"extra": 1}, "extra"),
])
async def test_create_invalid_field_is_400_and_writes_nothing(
        server: Server, client: httpx.AsyncClient, change: dict[str, object], field: str) -> None:
    response = await client.post("/api/sim/sessions", json=session_body(**change))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] in ("invalid_session", "invalid_range", "invalid_config")
    assert field in response.text
    assert await server.db.fetch_sql("SELECT id FROM sim_sessions") == []
    assert await server.db.fetch_sql("SELECT seq FROM sim_events") == []


async def test_create_missing_field_and_bad_json_are_400(client: httpx.AsyncClient) -> None:
    body = session_body()
    del body["symbol"]
    response = await client.post("/api/sim/sessions", json=body)
    assert response.status_code == 400
    assert {"field": "symbol", "message": "required"} in response.json()["error"]["details"]
    response = await client.post("/api/sim/sessions", content=b"{not json",
                                 headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


async def test_create_unknown_market_is_clear_error(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/sim/sessions", json=session_body(symbol="NOPE"))
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["code"] == "no_candles"


async def test_session_routes_need_a_user(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        response = await anonymous.get("/api/sim/sessions")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_user"


async def test_list_and_get_show_only_own_sessions(server: Server,
                                                   client: httpx.AsyncClient) -> None:
    created = (await client.post("/api/sim/sessions", json=session_body())).json()
    async with server.client("bob") as bob:
        assert (await bob.get("/api/sim/sessions")).json()["sessions"] == []
        assert (await bob.get(f"/api/sim/sessions/{created['id']}")).status_code == 404
    listed = (await client.get("/api/sim/sessions")).json()["sessions"]
    assert [s["id"] for s in listed] == [created["id"]]
    assert (await client.get("/api/sim/sessions/not-a-uuid")).status_code == 404


async def test_idempotent_create_same_body_returns_same_session(
        server: Server, client: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "abc-123"}
    first = await client.post("/api/sim/sessions", json=session_body(), headers=headers)
    second = await client.post("/api/sim/sessions", json=session_body(), headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    other = await client.post("/api/sim/sessions", json=session_body(speed=10), headers=headers)
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    rows = await server.db.fetch_sql("SELECT id FROM sim_sessions")
    assert len(rows) == 1


async def test_idempotent_create_concurrent_duplicates_make_one_session(
        server: Server, client: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "same-instant"}
    responses: list[httpx.Response] = []

    async def create() -> None:
        responses.append(await client.post("/api/sim/sessions", json=session_body(speed=60),
                                           headers=headers))

    async with trio.open_nursery() as nursery:
        for _ in range(8):
            nursery.start_soon(create)
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(await server.db.fetch_sql("SELECT id FROM sim_sessions")) == 1
    assert len(server.services.supervisor.runners) == 1
    await client.post(f"/api/sim/sessions/{responses[0].json()['id']}/control",
                      json={"action": "stop"})


async def test_import_changing_candles_under_live_session_is_409_and_writes_nothing(
        server: Server, client: httpx.AsyncClient) -> None:
    candles = candle_series(120)
    session_id = (await client.post("/api/sim/sessions",
                                    json=session_body(speed=60))).json()["id"]

    def csv(rows: list[Candle]) -> bytes:
        return "".join(f"{c.ts},{c.open},{c.high},{c.low},{c.close},{c.volume}\n"
                       for c in rows).encode()

    async def upload(body: bytes) -> httpx.Response:
        return await client.post("/api/candles/import", content=body,
                                 params={"symbol": "TEST", "timeframe": "1m"},
                                 headers={"Content-Type": "text/csv"})

    changed = [replace(candles[5], volume=candles[5].volume + 1)]
    refused = await upload(csv(changed))
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "market_in_use"
    stored = await server.db.fetch_sql("SELECT volume FROM candles WHERE ts = $1", candles[5].ts)
    assert stored[0]["volume"] == candles[5].volume
    same = await upload(csv(candles[:10]))  # identical rows write nothing: allowed
    assert (same.status_code, same.json()["unchanged"]) == (200, 10)
    later = [replace(c, ts=c.ts + 200 * MINUTE) for c in candles[:3]]  # outside the range
    assert (await upload(csv(later))).status_code == 200
    await client.post(f"/api/sim/sessions/{session_id}/control", json={"action": "stop"})
    await wait_status(client, session_id, "stopped")
    assert (await upload(csv(changed))).status_code == 200
