"""Cross-user isolation: another user's session is a 404 everywhere and never listed."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.support.api import session_body, wait_status
from tests.support.server import Server

# (method, path suffix, json body) of every route that takes a session id.
SESSION_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "", None),
    ("GET", "/events", None),
    ("GET", "/stream", None),
    ("POST", "/stream-ticket", None),
    ("POST", "/control", {"action": "pause"}),
    ("POST", "/control", {"action": "stop"}),
    ("POST", "/control", {"action": "speed", "speed": 5}),
]


async def create(client: httpx.AsyncClient, **overrides: Any) -> str:
    response = await client.post("/api/sim/sessions", json=session_body(**overrides))
    assert response.status_code == 201, response.text
    session_id: str = response.json()["id"]
    return session_id


async def call(client: httpx.AsyncClient, method: str, path: str,
               body: dict[str, Any] | None) -> httpx.Response:
    return await client.request(method, path, json=body)


@pytest.mark.parametrize(("method", "suffix", "body"), SESSION_ROUTES)
async def test_isolation_other_users_session_is_404(server: Server, client: httpx.AsyncClient,
                                                    method: str, suffix: str,
                                                    body: dict[str, Any] | None) -> None:
    session_id = await create(client, speed=60)
    async with server.client("bob") as bob:
        response = await call(bob, method, f"/api/sim/sessions/{session_id}{suffix}", body)
        assert response.status_code == 404
        # Exactly what a session that does not exist gets: nothing tells them apart.
        missing = await call(bob, method, f"/api/sim/sessions/{uuid.uuid4()}{suffix}", body)
        assert response.json() == missing.json()
    owner_view = (await client.get(f"/api/sim/sessions/{session_id}")).json()
    assert owner_view["status"] == "running"  # bob's controls changed nothing


@pytest.mark.parametrize("bad_id", ["nope", "1", "0f8fad5b-d9cb-469f-a165-70867728950",
                                    "%2e%2e", "' OR '1'='1"])
async def test_isolation_malformed_session_id_is_404(client: httpx.AsyncClient,
                                                     bad_id: str) -> None:
    for method, suffix, body in SESSION_ROUTES:
        response = await call(client, method, f"/api/sim/sessions/{bad_id}{suffix}", body)
        assert response.status_code == 404, (method, suffix)


async def test_isolation_list_shows_only_own_sessions(server: Server,
                                                      client: httpx.AsyncClient) -> None:
    mine = {await create(client), await create(client)}
    async with server.client("bob") as bob:
        theirs = await create(bob)
        bob_list = (await bob.get("/api/sim/sessions")).json()["sessions"]
    alice_list = (await client.get("/api/sim/sessions")).json()["sessions"]
    assert {s["id"] for s in alice_list} == mine
    assert {s["id"] for s in bob_list} == {theirs}


async def test_isolation_same_idempotency_key_per_user_is_separate(
        server: Server, client: httpx.AsyncClient) -> None:
    key = {"Idempotency-Key": "order-1"}
    first = await client.post("/api/sim/sessions", json=session_body(), headers=key)
    async with server.client("bob") as bob:
        theirs = await bob.post("/api/sim/sessions", json=session_body(), headers=key)
    assert (first.status_code, theirs.status_code) == (201, 201)
    assert first.json()["id"] != theirs.json()["id"]


async def test_isolation_ticket_of_one_user_cannot_open_anothers_stream(
        server: Server, client: httpx.AsyncClient) -> None:
    alice_session = await create(client)
    async with server.client("bob") as bob:
        bob_session = await create(bob)
        bob_ticket = (await bob.post(
            f"/api/sim/sessions/{bob_session}/stream-ticket")).json()["ticket"]
    await wait_status(client, alice_session, "finished")
    async with httpx.AsyncClient(base_url=server.url) as browser:
        response = await browser.get(f"/api/sim/sessions/{alice_session}/stream",
                                     params={"ticket": bob_ticket})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_ticket"
