"""Stream tickets: how a browser's ``EventSource`` (which cannot send headers) gets in.

Flow: the client, holding its access token, calls
``POST /api/sim/sessions/<id>/stream-ticket`` and gets ``{ticket, expiresInS}``; it then
opens ``GET /api/sim/sessions/<id>/stream?ticket=<ticket>``.  A ticket is good for one
session and one user, for :data:`TICKET_TTL_S` seconds, and is checked when the stream
opens (an open stream outlives its ticket; a reconnect after expiry needs a new ticket
and ``fromSeq``).  It is accepted on the stream route only; an access token in a query
string is refused everywhere, because URLs end up in logs, proxies and browser history.

A ticket is stateless and opaque: AES-256-GCM over ``{session, user, expiry}`` with a
random nonce, so nobody can read (the user id stays out of access logs) or forge one, and
any process holding the same key can redeem it.  The key comes from
``LIVESIM_TICKET_SECRET`` (via HKDF); when that is unset each process draws a random key,
which is right for one process and wrong behind a load balancer (a ticket from process A
fails on process B), so start-up says so.  Within its lifetime a ticket may be used more
than once (EventSource retries reuse the URL); its short life and single session bound
what a leaked one is worth.
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
from quart import Blueprint, Response, current_app, jsonify, request

from livesim.app.auth import require_user
from livesim.app.context import services
from livesim.app.validation import parse_json_object
from livesim.config import TICKET_SECRET
from livesim.errors import InvalidInput, Unauthorized
from livesim.runner.lifecycle import get_user_session

LOGGER = logging.getLogger(__name__)

TICKET_TTL_S = 30
EXTENSION = "livesim.tickets"
# Query parameter names under which clients put access tokens (RFC 6750 §2.3 and habit).
TOKEN_PARAMS = ("access_token", "token", "id_token", "authorization")

_AAD = b"livesim-stream-ticket-v1"
_NONCE_BYTES = 12
_MAX_TICKET_CHARS = 1024
_TICKET = re.compile(r"[A-Za-z0-9_-]+")

blueprint = Blueprint("tickets", __name__)


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


def ticket_book() -> TicketBook:
    """The running app's ticket book."""
    book: TicketBook = current_app.extensions[EXTENSION]
    return book


def refuse_token_in_query() -> None:
    """400 when a request carries an access token in its URL (it would be logged)."""
    found = sorted(name for name in request.args if name.lower() in TOKEN_PARAMS)
    if found:
        raise InvalidInput(
            "access tokens are never accepted in a URL: send Authorization: Bearer, or "
            "use a stream ticket (POST .../stream-ticket) for EventSource",
            code="token_in_query", details=[{"field": f, "message": "not accepted"}
                                            for f in found])


async def stream_user(session_id: str) -> str:
    """Who opens a stream: the holder of ``?ticket=`` for this session, else the caller."""
    refuse_token_in_query()
    tickets = request.args.getlist("ticket")
    if not tickets:
        return await require_user()
    if len(tickets) > 1:
        raise InvalidInput("give one ticket", code="invalid_query",
                           details=[{"field": "ticket", "message": "given more than once"}])
    return ticket_book().redeem(tickets[0], session_id)


@blueprint.post("/api/sim/sessions/<session_id>/stream-ticket")
async def stream_ticket(session_id: str) -> Response:
    refuse_token_in_query()
    user = await require_user()
    raw = await request.get_data(as_text=False)
    if raw.strip():
        body = parse_json_object(raw)
        if body:
            raise InvalidInput("this request takes no fields", code="invalid_input",
                               details=[{"field": f, "message": "unknown field"}
                                        for f in sorted(body)])
    await get_user_session(services().db, user, session_id)
    book = ticket_book()
    response = jsonify({"ticket": book.issue(session_id, user), "expiresInS": book.ttl_s})
    # A credential: never cached by the browser or anything in between.
    response.headers["Cache-Control"] = "no-store"
    return response
