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

from quart import Blueprint, Response, jsonify, request

from livesim.app import api
from livesim.app.auth import require_user
from livesim.app.session_view import get_user_session
from livesim.app.state import app_state
from livesim.errors import InvalidInput

# Query parameter names under which clients put access tokens (RFC 6750 §2.3 and habit).
TOKEN_PARAMS = ("access_token", "token", "id_token", "authorization")

blueprint = Blueprint("tickets", __name__)


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
    return app_state().tickets.redeem(tickets[0], session_id)


@api.STREAM_TICKET.route(blueprint)
async def stream_ticket(session_id: str) -> Response:
    refuse_token_in_query()
    user = await require_user()
    state = app_state()
    await api.STREAM_TICKET.json_body(state.settings)  # no fields: an empty body or {}
    api.STREAM_TICKET.query_values(state.settings)
    await get_user_session(state.services.db, user, session_id)
    response = jsonify({"ticket": state.tickets.issue(session_id, user),
                        "expiresInS": state.tickets.ttl_s})
    # A credential: never cached by the browser or anything in between.
    response.headers["Cache-Control"] = "no-store"
    return response
