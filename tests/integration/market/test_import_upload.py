"""The import route streams its body: bounded buffer, its own size limit (real hypercorn)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import trio

from livesim.app import create_app
from livesim.app.bodies import HIGH_WATER_BYTES, BoundedConnection, StreamedBody
from livesim.config import Settings
from livesim.db.bridge import Database
from livesim.market.synthetic import generate_candles
from tests.support.server import serve_app

M = 60_000
T0 = 1_704_067_200_000
PIECE = 64 * 1024


def csv_bytes(count: int) -> bytes:
    return "".join(f"{c.ts},{c.open!r},{c.high!r},{c.low!r},{c.close!r},{c.volume!r}\n"
                   for c in generate_candles("1m", T0, T0 + count * M, 9)).encode()


async def next_message(feed: Iterator[dict[str, Any]]) -> dict[str, Any]:
    # like hypercorn: after the last body message, nothing until the client leaves
    message = next(feed, None)
    if message is None:
        await trio.sleep_forever()
    assert message is not None
    return message


async def test_bounded_connection_streamed_body_buffer_stays_under_high_water() -> None:
    body = StreamedBody(None, None)
    request: Any = type("FakeRequest", (), {"body": body})()
    messages = [{"type": "http.request", "body": b"x" * PIECE, "more_body": True}] * 100
    messages.append({"type": "http.request", "body": b"", "more_body": False})
    feed = iter(messages)
    most = received = 0

    async def receive() -> Any:
        nonlocal most
        most = max(most, len(body._data))
        return await next_message(feed)

    connection = BoundedConnection.__new__(BoundedConnection)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(connection.handle_messages, nursery, request, receive)
        async for piece in body:
            received += len(piece)
            await trio.sleep(0.001)  # a slow reader: the parser and the database
        nursery.cancel_scope.cancel()
    assert received == 100 * PIECE
    assert most <= HIGH_WATER_BYTES + PIECE


async def test_streamed_body_awaited_whole_is_not_held_back() -> None:
    body = StreamedBody(None, None)
    request: Any = type("FakeRequest", (), {"body": body})()
    feed = iter([{"type": "http.request", "body": b"y" * PIECE, "more_body": True}] * 40
                + [{"type": "http.request", "body": b"", "more_body": False}])

    async def receive() -> Any:
        return await next_message(feed)

    connection = BoundedConnection.__new__(BoundedConnection)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(connection.handle_messages, nursery, request, receive)
        with trio.fail_after(5):
            assert len(await body) == 40 * PIECE
        nursery.cancel_scope.cancel()


@pytest.fixture
async def base_url(db: Database, database_url: str, schema_name: str
                   ) -> AsyncIterator[str]:
    # the smallest general limit: far less than what arrives before the route can raise it
    settings = Settings(auth_mode="dev", max_body_bytes=1024,
                        max_import_bytes=2 * 1024 * 1024)
    app = create_app(settings, database_url, schema=schema_name)
    async with serve_app(app) as url:
        yield url


async def upload(base_url: str, body: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as client:
        return await client.post("/api/candles/import", content=body,
                                 params={"symbol": "UP", "timeframe": "1m"},
                                 headers={"X-Dev-User": "alice", "Content-Type": "text/csv"})


async def chunked(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), PIECE):
        yield data[start:start + PIECE]


async def test_import_route_body_beyond_the_general_limit_is_imported(base_url: str) -> None:
    data = csv_bytes(20_000)  # ~0.9 MB: far beyond LIVESIM_MAX_BODY_BYTES
    response = await upload(base_url, data)
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 20_000
    again = await upload(base_url, chunked(data))  # no Content-Length
    assert again.json()["unchanged"] == 20_000


@pytest.mark.parametrize("streamed", [False, True])
async def test_import_route_body_beyond_the_import_limit_is_413(base_url: str,
                                                                streamed: bool) -> None:
    data = csv_bytes(45_000)  # ~2.3 MB > LIVESIM_MAX_IMPORT_BYTES (2 MiB)
    response = await upload(base_url, chunked(data) if streamed else data)
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"]


@pytest.mark.parametrize("streamed", [False, True])
async def test_other_routes_keep_the_general_limit(base_url: str, streamed: bool) -> None:
    body = b"{" + b" " * 5_000 + b"}"
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as client:
        response = await client.post("/api/sim/sessions",
                                     content=chunked(body) if streamed else body,
                                     headers={"X-Dev-User": "alice",
                                              "Content-Type": "application/json"})
    assert response.status_code == 413
