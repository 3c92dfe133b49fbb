"""Stream tickets (unit and through a real server) and the per-user stream limit."""

from __future__ import annotations

import base64

import httpx
import pytest
from httpx_sse import aconnect_sse

from livesim.app.limits import StreamSlots
from livesim.app.ticketbook import TicketBook
from livesim.config import Settings
from livesim.errors import TooManyRequests, Unauthorized
from tests.support.api import eventually, session_body
from tests.support.server import TEST_SETTINGS, Server

SESSION = "0f8fad5b-d9cb-469f-a165-70867728950e"
OTHER_SESSION = "7c9e6679-7425-40de-944b-e07fc1f90ae7"


class WallClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def redeem_error(book: TicketBook, ticket: str, session_id: str = SESSION) -> str:
    with pytest.raises(Unauthorized) as caught:
        book.redeem(ticket, session_id)
    return caught.value.code


# ---- the ticket itself ------------------------------------------------------------


def test_ticket_redeemed_for_its_session_returns_user() -> None:
    book = TicketBook(None)
    assert book.redeem(book.issue(SESSION, "alice"), SESSION) == "alice"
    assert book.redeem(book.issue(SESSION.upper(), "alice"), SESSION) == "alice"


def test_ticket_is_opaque() -> None:
    ticket = TicketBook(None).issue(SESSION, "alice@example.com")
    raw = base64.urlsafe_b64decode(ticket + "=" * (-len(ticket) % 4))
    assert b"alice" not in raw
    assert SESSION.encode() not in raw


def test_ticket_for_another_session_is_invalid() -> None:
    book = TicketBook(None)
    assert redeem_error(book, book.issue(OTHER_SESSION, "alice")) == "invalid_ticket"


def test_ticket_after_ttl_is_expired() -> None:
    clock = WallClock()
    book = TicketBook(None, ttl_s=30, now=clock)
    ticket = book.issue(SESSION, "alice")
    clock.now += 30
    assert book.redeem(ticket, SESSION) == "alice"
    clock.now += 1
    assert redeem_error(book, ticket) == "ticket_expired"


def test_ticket_tampered_is_invalid() -> None:
    book = TicketBook(None)
    ticket = book.issue(SESSION, "alice")
    for index in (0, len(ticket) // 2, len(ticket) - 2):
        flipped = ticket[:index] + ("A" if ticket[index] != "A" else "B") + ticket[index + 1:]
        assert redeem_error(book, flipped) == "invalid_ticket"


@pytest.mark.parametrize("garbage", ["", "x", "!!!!", "a" * 2000, "AAAAAAAAAAAAAAAAAAAA"])
def test_ticket_garbage_is_invalid(garbage: str) -> None:
    assert redeem_error(TicketBook(None), garbage) == "invalid_ticket"


def test_ticket_from_another_process_key_is_invalid() -> None:
    assert redeem_error(TicketBook(None), TicketBook(None).issue(SESSION, "alice")) \
        == "invalid_ticket"


def test_ticket_with_shared_secret_works_across_processes() -> None:
    issued = TicketBook("a shared secret of enough entropy").issue(SESSION, "alice")
    other_process = TicketBook("a shared secret of enough entropy")
    assert not other_process.per_process
    assert other_process.redeem(issued, SESSION) == "alice"
    assert redeem_error(TicketBook("another secret"), issued) == "invalid_ticket"


# ---- the stream limit -------------------------------------------------------------


async def test_stream_slots_over_limit_is_429_until_released() -> None:
    slots = StreamSlots(per_user=2)

    async def body() -> object:
        yield "x"

    first, second = slots.hold("alice", body()), slots.hold("alice", body())
    with pytest.raises(TooManyRequests) as caught:
        slots.hold("alice", body())
    assert caught.value.code == "too_many_streams"
    assert int(caught.value.headers["Retry-After"]) > 0
    assert slots.open_count("bob") == 0
    assert [chunk async for chunk in first] == ["x"]  # ran to the end: slot released
    assert slots.open_count("alice") == 1
    del second  # never started, then dropped: released by the finalizer
    assert slots.open_count("alice") == 0


# ---- through the server -----------------------------------------------------------


@pytest.fixture
def settings() -> Settings:
    return TEST_SETTINGS.with_changes(max_streams_per_user=1)


async def create(client: httpx.AsyncClient, **overrides: object) -> str:
    response = await client.post("/api/sim/sessions", json=session_body(**overrides))
    assert response.status_code == 201, response.text
    session_id: str = response.json()["id"]
    return session_id


async def ticket_for(client: httpx.AsyncClient, session_id: str) -> str:
    response = await client.post(f"/api/sim/sessions/{session_id}/stream-ticket")
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["expiresInS"] == 30
    ticket: str = body["ticket"]
    return ticket


async def test_stream_with_ticket_and_no_headers_streams_to_the_end(
        server: Server, client: httpx.AsyncClient) -> None:
    session_id = await create(client)
    ticket = await ticket_for(client, session_id)
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0) as browser:
        received = []
        async with aconnect_sse(browser, "GET", f"/api/sim/sessions/{session_id}/stream",
                                params={"ticket": ticket}) as source:
            assert source.response.status_code == 200
            async for event in source.aiter_sse():
                if event.id:  # skip the opening retry: frame
                    received.append(event.event)
    assert received[0] == "session_started"
    assert received[-1] == "session_finished"


async def test_stream_ticket_for_other_session_is_401(server: Server,
                                                       client: httpx.AsyncClient) -> None:
    first, second = await create(client), await create(client)
    ticket = await ticket_for(client, first)
    async with httpx.AsyncClient(base_url=server.url) as browser:
        response = await browser.get(f"/api/sim/sessions/{second}/stream",
                                     params={"ticket": ticket})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_ticket"


@pytest.mark.parametrize("param", ["access_token", "token", "Authorization"])
async def test_stream_token_in_query_is_refused(client: httpx.AsyncClient,
                                                 param: str) -> None:
    session_id = await create(client)
    response = await client.get(f"/api/sim/sessions/{session_id}/stream",
                                params={param: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "token_in_query"
    assert "eyJhbGci" not in response.text


async def test_stream_ticket_route_rejects_body_fields(client: httpx.AsyncClient) -> None:
    session_id = await create(client)
    response = await client.post(f"/api/sim/sessions/{session_id}/stream-ticket",
                                 json={"ttl": 3600})
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": "ttl", "message": "unknown field"}]
    assert (await client.post(f"/api/sim/sessions/{session_id}/stream-ticket",
                              json={})).status_code == 200


async def test_stream_ticket_is_not_accepted_on_other_routes(
        server: Server, client: httpx.AsyncClient) -> None:
    session_id = await create(client)
    ticket = await ticket_for(client, session_id)
    async with httpx.AsyncClient(base_url=server.url) as browser:
        for path in (f"/api/sim/sessions/{session_id}", f"/api/sim/sessions/{session_id}/events",
                     "/api/sim/sessions"):
            response = await browser.get(path, params={"ticket": ticket})
            assert response.status_code == 401, path


async def test_stream_over_user_limit_is_429_and_frees_on_close(
        client: httpx.AsyncClient, server: Server) -> None:
    session_id = await create(client, speed=60)  # a candle a second: stays open
    path = f"/api/sim/sessions/{session_id}/stream"
    async with server.client() as tab, tab.stream("GET", path) as first:
        assert first.status_code == 200
        refused = await client.get(path)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "too_many_streams"
        assert int(refused.headers["Retry-After"]) > 0
        async with server.client("bob") as bob:  # another user has slots of their own
            other = await create(bob, speed=60)
            async with bob.stream("GET", f"/api/sim/sessions/{other}/stream") as theirs:
                assert theirs.status_code == 200

    async def reopened() -> bool:
        async with server.client() as tab, tab.stream("GET", path) as again:
            return again.status_code == 200

    assert await eventually(reopened)
