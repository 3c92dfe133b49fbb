"""Stream tickets' cryptography: issue and redeem (see :mod:`livesim.app.tickets`).

A ticket is AES-256-GCM over ``{session, user, expiry}`` with a random nonce; the key
comes from ``LIVESIM_TICKET_SECRET`` via HKDF, or is random per process.  No request or
app object here, so the app state can hold a book without importing the routes.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import secrets
import time
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from livesim.config import TICKET_SECRET
from livesim.errors import Unauthorized

LOGGER = logging.getLogger(__name__)

TICKET_TTL_S = 30

_AAD = b"livesim-stream-ticket-v1"
_NONCE_BYTES = 12
_MAX_TICKET_CHARS = 1024
_TICKET = re.compile(r"[A-Za-z0-9_-]+")


def _invalid(message: str, code: str) -> Unauthorized:
    return Unauthorized(message, code=code, headers={
        "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{message}"'})


class TicketBook:
    """Issues and redeems stream tickets with one key.

    Args:
        secret: the shared secret (any length, high entropy); ``None`` draws a random key
            for this process only.
        ttl_s: how long a ticket stays good.
        now: wall-clock seconds (wall clock, not trio's: another process checks expiry).
    """

    def __init__(self, secret: str | None, *, ttl_s: int = TICKET_TTL_S,
                 now: Callable[[], float] = time.time) -> None:
        self.per_process = not secret
        if secret:
            key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                       info=b"livesim stream ticket key").derive(secret.encode("utf-8"))
        else:
            key = secrets.token_bytes(32)
        self._aead = AESGCM(key)
        self.ttl_s = ttl_s
        self._now = now

    def issue(self, session_id: str, user_id: str) -> str:
        """A ticket for ``user_id`` to open the stream of ``session_id``."""
        claims = {"s": session_id.lower(), "u": user_id, "e": int(self._now()) + self.ttl_s}
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._aead.encrypt(
            nonce, json.dumps(claims, separators=(",", ":")).encode("utf-8"), _AAD)
        return base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")

    def redeem(self, ticket: str, session_id: str) -> str:
        """The user a ticket was issued to, if it is genuine, unexpired and for this session.

        Raises:
            Unauthorized: ``invalid_ticket`` (forged, damaged, another session's, another
                key's) or ``ticket_expired``.
        """
        if len(ticket) > _MAX_TICKET_CHARS or not _TICKET.fullmatch(ticket):
            raise _invalid("the stream ticket is malformed", "invalid_ticket")
        try:
            raw = base64.urlsafe_b64decode(ticket + "=" * (-len(ticket) % 4))
            opened = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _AAD)
            claims = json.loads(opened)
            owner, ticket_session, expires = claims["u"], claims["s"], claims["e"]
        except (binascii.Error, InvalidTag, ValueError, KeyError, TypeError):
            # One answer for every failure: a forger learns nothing from the error.
            raise _invalid("the stream ticket is not valid", "invalid_ticket") from None
        if ticket_session != session_id.lower():
            raise _invalid("the stream ticket is not valid", "invalid_ticket")
        if not isinstance(expires, int) or expires < self._now():
            raise _invalid("the stream ticket has expired; get a new one", "ticket_expired")
        if not isinstance(owner, str):
            raise _invalid("the stream ticket is not valid", "invalid_ticket")
        return owner


def build_ticket_book(secret: str | None, auth_mode: str) -> TicketBook:
    """The process's ticket book; says loudly when its key is per-process."""
    book = TicketBook(secret)
    if book.per_process:
        # Harmless for the one-process local demo; a trap behind a load balancer.
        level = logging.WARNING if auth_mode != "dev" else logging.INFO
        LOGGER.log(level, "%s is not set: stream tickets use a random key of this process "
                   "only; set it when several processes serve the API", TICKET_SECRET)
    return book
