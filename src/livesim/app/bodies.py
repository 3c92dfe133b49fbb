"""Request bodies that can be streamed in bounded memory (the CSV import's).

Quart reads every ASGI body message into the request's buffer as fast as the client
sends, whether or not the handler reads it: a 150 MB upload parsed at 20 MB/s would
sit in memory almost whole.  Here the message loop stops asking hypercorn for more
while a handler that iterates the body has :data:`HIGH_WATER_BYTES` unread, and
hypercorn's bounded queue then pushes back on the socket (TCP flow control).  A
handler that awaits the whole body (``get_data``/``get_json``) switches that off.

The size limit counts every byte received, not only the unread ones (Quart's check
looks at the buffer, which streaming keeps small), and a route may raise it for its
own request with :func:`allow_body_bytes` (the import's ``LIVESIM_MAX_IMPORT_BYTES``).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import trio
from hypercorn.typing import ASGIReceiveCallable
from quart import Request, request
from quart_trio.asgi import TrioASGIHTTPConnection
from quart_trio.wrappers.request import TrioBody, TrioRequest
from werkzeug.exceptions import RequestEntityTooLarge

HIGH_WATER_BYTES = 1 << 20


class StreamedBody(TrioBody):
    """A body whose unread part stays under :data:`HIGH_WATER_BYTES` when iterated."""

    def __init__(self, expected_content_length: int | None,
                 max_content_length: int | None) -> None:
        super().__init__(expected_content_length, max_content_length)
        self._expected = expected_content_length
        self._received = 0
        self._whole = False
        self._room = trio.Event()

    def allow(self, limit: int) -> None:
        """Raise (or lower) this body's size limit to ``limit`` bytes (before reading)."""
        self._max_content_length = limit
        # before the body is read, only the Content-Length check can have refused it
        too_long = self._expected is not None and self._expected > limit
        self._must_raise = RequestEntityTooLarge() if too_long else None

    def _over_limit(self) -> bool:
        return self._max_content_length is not None and self._received > self._max_content_length

    def append(self, data: bytes) -> None:
        if data == b"" or self._must_raise is not None:
            return
        self._received += len(data)
        self._data.extend(data)
        self._has_data.set()
        # A body awaited whole is refused as it arrives; a streamed one when it is read
        # (until then at most HIGH_WATER_BYTES wait here, and the route may still
        # raise its limit).
        if self._whole and self._over_limit():
            self._must_raise = RequestEntityTooLarge()
            self.set_complete()

    async def __anext__(self) -> bytes:
        data = await super().__anext__()
        if self._over_limit():
            raise RequestEntityTooLarge()
        self._room.set()
        return data

    def __await__(self) -> Generator[Any, None, Any]:
        self._whole = True
        if self._must_raise is None and self._over_limit():
            self._must_raise = RequestEntityTooLarge()
            self.set_complete()
        self._room.set()
        return super().__await__()

    async def wait_for_room(self) -> None:
        """Return once the handler has read enough (or wants the body whole)."""
        while not self._whole and len(self._data) >= HIGH_WATER_BYTES:
            self._room = trio.Event()
            await self._room.wait()


class StreamedRequest(TrioRequest):
    body_class = StreamedBody


class BoundedConnection(TrioASGIHTTPConnection):
    """quart-trio's connection, asking for the next body message only when there is room."""

    async def handle_messages(  # type: ignore[override]
            self, nursery: trio.Nursery, request: Request, receive: ASGIReceiveCallable
    ) -> None:
        body = request.body
        while True:
            if isinstance(body, StreamedBody):
                await body.wait_for_room()
            message = await receive()
            if message["type"] == "http.request":
                body.append(message.get("body", b""))
                if not message.get("more_body", False):
                    body.set_complete()
            elif message["type"] == "http.disconnect":
                break
        nursery.cancel_scope.cancel()


def allow_body_bytes(limit: int) -> None:
    """Let the current request's body be up to ``limit`` bytes (a route's own limit)."""
    body = request.body
    if isinstance(body, StreamedBody):
        body.allow(limit)
