"""Per-user cap on open event streams (``max_streams_per_user``), counted in this process.

A stream takes a slot before its response starts, so an over-limit client gets a real
429 with ``Retry-After`` instead of a 200 that dies at once.  The slot is given back in
the body generator's ``finally`` (normal end, client gone, shutdown) and, for a body
that never started (the client left between the headers and the first byte), when the
generator object is collected (``weakref.finalize``): either way exactly once.

The count is per process: behind N processes a user may hold up to N x the limit.
That bounds what one client can pin on one server, which is the point of the limit.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing

from livesim.errors import TooManyRequests

RETRY_AFTER_S = 5


class Slot:
    """One open stream of one user; :meth:`release` is idempotent."""

    def __init__(self, slots: StreamSlots, user_id: str) -> None:
        self._slots = slots
        self.user_id = user_id
        self.released = False

    def release(self) -> None:
        """Give the slot back (once)."""
        if not self.released:
            self.released = True
            self._slots.give_back(self.user_id)


class StreamSlots:
    """Counts open streams per user and refuses one over ``per_user``."""

    def __init__(self, per_user: int) -> None:
        self.per_user = per_user
        self._open: dict[str, int] = {}

    def open_count(self, user_id: str) -> int:
        """How many streams ``user_id`` holds open in this process."""
        return self._open.get(user_id, 0)

    def take(self, user_id: str) -> Slot:
        """A slot for a new stream, or 429 when the user already holds ``per_user``."""
        if self.open_count(user_id) >= self.per_user:
            raise TooManyRequests(
                f"at most {self.per_user} open streams per user; close one first",
                code="too_many_streams", headers={"Retry-After": str(RETRY_AFTER_S)})
        self._open[user_id] = self.open_count(user_id) + 1
        return Slot(self, user_id)

    def give_back(self, user_id: str) -> None:
        """Count one stream of ``user_id`` as closed."""
        left = self.open_count(user_id) - 1
        if left > 0:
            self._open[user_id] = left
        else:
            self._open.pop(user_id, None)

    def hold(self, user_id: str, body: AsyncIterator[str]) -> AsyncIterator[str]:
        """``body`` wrapped so it holds one of the user's slots while it lives."""
        slot = self.take(user_id)
        wrapped = _holding(slot, body)
        weakref.finalize(wrapped, slot.release)
        return wrapped


async def _holding(slot: Slot, body: AsyncIterator[str]) -> AsyncGenerator[str, None]:
    try:
        if isinstance(body, AsyncGenerator):
            async with aclosing(body) as chunks:
                async for chunk in chunks:
                    yield chunk
        else:
            async for chunk in body:
                yield chunk
    finally:
        slot.release()
