"""Orders from outside: recorded as inputs, taken at the next candle, in the log."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.support.api import all_events, eventually, session_body, wait_status

ORDERS = "/api/sim/sessions/{}/orders"


async def manual_session(client: httpx.AsyncClient) -> str:
    body = session_body(profileSlug="manual", speed=1, config={})
    session_id: str = (await client.post("/api/sim/sessions", json=body)).json()["id"]
    assert (await client.post(f"/api/sim/sessions/{session_id}/control",
                              json={"action": "pause"})).status_code == 200
    return session_id


async def step(client: httpx.AsyncClient, session_id: str, candles: int = 1) -> None:
    before = await _candles(client, session_id)
    await client.post(f"/api/sim/sessions/{session_id}/control",
                      json={"action": "step", "candles": candles})

    async def stepped() -> bool:
        return await _candles(client, session_id) == before + candles

    await eventually(stepped)


async def _candles(client: httpx.AsyncClient, session_id: str) -> int:
    return sum(e["type"] == "candle" for e in await all_events(client, session_id))


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


async def test_market_order_fills_at_the_next_candle_and_is_idempotent(
        client: httpx.AsyncClient) -> None:
    session_id = await manual_session(client)
    order = {"clientOrderId": "buy-1", "side": "buy", "type": "market", "qty": 2}
    placed = await client.post(ORDERS.format(session_id), json=order)
    assert placed.status_code == 202, placed.text
    assert placed.json()["status"] == "pending"
    assert (await client.post(ORDERS.format(session_id), json=order)).status_code == 200
    reused = await client.post(ORDERS.format(session_id), json={**order, "qty": 3})
    assert reused.status_code == 409
    await step(client, session_id)
    events = await all_events(client, session_id)
    submitted = of_type(events, "order_submitted")
    assert len(submitted) == 1
    assert submitted[0]["payload"]["source"] == "user"
    assert submitted[0]["payload"]["clientOrderId"] == "buy-1"
    filled = of_type(events, "order_filled")[0]
    last_candle = of_type(events, "candle")[-1]
    assert filled["ts"] == last_candle["ts"]
    assert filled["payload"]["price"] == last_candle["payload"]["open"]
    assert of_type(events, "trade_opened")[0]["payload"]["qty"] == 2
    listed = (await client.get(ORDERS.format(session_id))).json()
    assert listed == {"orders": [], "pending": []}
    assert (await client.post(ORDERS.format(session_id), json=order)).json()["status"] \
        == "recorded"
    closed = await client.post(f"/api/sim/sessions/{session_id}/position/close")
    assert closed.status_code == 202
    await step(client, session_id)
    assert len(of_type(await all_events(client, session_id), "trade_closed")) == 1
    await client.post(f"/api/sim/sessions/{session_id}/control", json={"action": "stop"})


async def test_limit_order_rests_lists_and_cancels(client: httpx.AsyncClient) -> None:
    session_id = await manual_session(client)
    order = {"clientOrderId": "dip", "side": "buy", "type": "limit", "limitPrice": 1,
             "qty": 1}
    assert (await client.post(ORDERS.format(session_id), json=order)).status_code == 202
    assert (await client.get(ORDERS.format(session_id))).json()["pending"][0][
        "clientOrderId"] == "dip"
    await step(client, session_id, 2)
    listed = (await client.get(ORDERS.format(session_id))).json()
    assert [o["clientOrderId"] for o in listed["orders"]] == ["dip"]
    assert (await client.delete(ORDERS.format(session_id) + "/dip")).status_code == 202
    await step(client, session_id)
    assert (await client.get(ORDERS.format(session_id))).json()["orders"] == []
    assert of_type(await all_events(client, session_id), "order_cancelled")
    await client.post(f"/api/sim/sessions/{session_id}/control", json={"action": "stop"})


async def test_bad_orders_are_400_and_record_nothing(client: httpx.AsyncClient,
                                                     server: Any) -> None:
    session_id = await manual_session(client)
    for body in ({"clientOrderId": "a", "side": "buy", "qty": -1},
                 {"clientOrderId": "b", "side": "buy", "type": "limit", "qty": 1},
                 {"clientOrderId": "c", "side": "buy", "qty": 1, "sizeFraction": 0.5},
                 {"clientOrderId": "d", "side": "hold", "qty": 1},
                 {"clientOrderId": "", "side": "buy", "qty": 1}):
        response = await client.post(ORDERS.format(session_id), json=body)
        assert response.status_code == 400, body
        assert response.json()["error"]["details"], body
    nan = await client.post(ORDERS.format(session_id), content=b'{"clientOrderId": "n", '
                            b'"side": "buy", "qty": NaN}',
                            headers={"Content-Type": "application/json"})
    assert nan.status_code == 400
    rows = await server.db.fetch_sql("SELECT count(*) AS n FROM sim_inputs")
    assert rows[0]["n"] == 0
    await client.post(f"/api/sim/sessions/{session_id}/control", json={"action": "stop"})
    ended = await client.post(ORDERS.format(session_id), json={
        "clientOrderId": "late", "side": "buy", "qty": 1})
    assert ended.status_code == 409


async def test_orders_of_another_users_session_are_404(server: Any,
                                                       client: httpx.AsyncClient) -> None:
    session_id = await manual_session(client)
    async with server.client("mallory") as other:
        order = {"clientOrderId": "x", "side": "buy", "qty": 1}
        assert (await other.post(ORDERS.format(session_id), json=order)).status_code == 404
        assert (await other.get(ORDERS.format(session_id))).status_code == 404
        assert (await other.delete(ORDERS.format(session_id) + "/x")).status_code == 404
    await client.post(f"/api/sim/sessions/{session_id}/control", json={"action": "stop"})


async def test_log_with_inputs_is_the_same_however_paced(client: httpx.AsyncClient) -> None:
    logs = []
    for pace in ("steps", "paused-and-max"):
        session_id = await manual_session(client)
        await step(client, session_id, 5)
        await client.post(ORDERS.format(session_id), json={
            "clientOrderId": "o1", "side": "buy", "qty": 3, "stopLoss": 50})
        if pace == "steps":
            await step(client, session_id, 1)
            await step(client, session_id, 9)
        else:
            await step(client, session_id, 10)
        await client.post(ORDERS.format(session_id), json={
            "clientOrderId": "o2", "side": "sell", "type": "limit", "limitPrice": 150,
            "qty": 3})
        await step(client, session_id, 2)
        await client.post(f"/api/sim/sessions/{session_id}/control",
                          json={"action": "speed", "speed": "max"})
        await client.post(f"/api/sim/sessions/{session_id}/control",
                          json={"action": "resume"})
        await wait_status(client, session_id, "finished")
        logs.append(await all_events(client, session_id))
    assert logs[0] == logs[1]
    assert any(json.dumps(e).find('"user"') > 0 for e in logs[0])
