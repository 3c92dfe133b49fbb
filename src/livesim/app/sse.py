"""The live stream of a session's log over Server-Sent Events.

A stream subscribes to the in-process fan-out *before* it reads the backlog, so
nothing committed in between is missed; events it already sent (by seq) are
skipped, so nothing is repeated at the seam.  When its live feed is cut (buffer
full) or an event arrives ahead of what it has sent (a gap), or another process
wakes it, it reads what it lacks from the database by seq.  At a heartbeat tick
after a quiet spell it also checks the database, so a lost wake-up costs at most
one heartbeat of delay.
The stream ends after the terminal event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import trio
from quart import Blueprint, Response

from livesim.app import api
from livesim.app.session_view import get_user_session
from livesim.app.state import app_state
from livesim.app.tickets import stream_user
from livesim.bus.fanout import Batch, Fanout, Tick, Wake
from livesim.db.bridge import Database
from livesim.eventlog import record_from_row
from livesim.sim.status import TERMINAL, SessionStatus

blueprint = Blueprint("sse", __name__)
BACKLOG_PAGE = 500
RETRY_MS = 2000


def first_seq() -> int:
    """Where a (re)connecting client starts: after Last-Event-ID, else at fromSeq, else 1.

    Both are read through the stream's declaration (:data:`livesim.app.api.STREAM`):
    ASCII decimal only, in range, or a 400 naming the header or parameter.
    """
    settings = app_state().settings
    from_seq: int = api.STREAM.query_values(settings)["fromSeq"]
    last_event_id: int | None = api.STREAM.header("Last-Event-ID", settings)
    return from_seq if last_event_id is None else last_event_id + 1


async def stream_events(db: Database, fanout: Fanout, session_id: str,
                        next_seq: int) -> AsyncIterator[str]:
    """The SSE body: backlog, then live, then the end; see the module docstring."""
    yield f"retry: {RETRY_MS}\n\n"
    while True:
        with fanout.subscribe(session_id) as subscription:
            catch_up = True
            quiet = True  # nothing live since the last tick
            while True:
                if catch_up:
                    catch_up = False
                    while True:
                        rows = await db.run("select-events", session_id=session_id,
                                            from_seq=next_seq, limit=BACKLOG_PAGE)
                        records = [record_from_row(row) for row in rows]
                        if records:
                            next_seq = records[-1].seq + 1
                            yield "".join(r.sse_frame() for r in records)
                            if records[-1].terminal:
                                return
                        if len(records) < BACKLOG_PAGE:
                            break
                items: list[Batch | Wake | Tick] = []
                cut = False
                try:
                    items.append(await subscription.receive.receive())
                    while True:
                        items.append(subscription.receive.receive_nowait())
                except trio.WouldBlock:
                    pass
                except trio.EndOfChannel:
                    cut = True
                chunks: list[str] = []
                ended = False
                for item in items:
                    if isinstance(item, Tick):
                        # a quiet spell: check the database too, for a lost wake-up
                        catch_up = catch_up or quiet
                        quiet = True
                        chunks.append(": heartbeat\n\n")
                        continue
                    quiet = False
                    if isinstance(item, Wake):
                        catch_up = catch_up or item.last_seq >= next_seq
                        continue
                    for record, frame in zip(item.records, item.frames, strict=True):
                        if record.seq < next_seq:
                            continue
                        if record.seq > next_seq:
                            catch_up = True
                            break
                        chunks.append(frame)
                        next_seq += 1
                        ended = ended or record.terminal
                if chunks:
                    yield "".join(chunks)
                if ended:
                    return
                if cut:
                    break  # resubscribe, then read the rest from the database


@api.STREAM.route(blueprint)
async def stream(session_id: str) -> Response:
    user = await stream_user(session_id)  # Authorization, or ?ticket= for EventSource
    svc = app_state().services
    row = await get_user_session(svc.db, user, session_id)
    next_seq = first_seq()
    if SessionStatus(row["status"]) in TERMINAL:
        # Nothing newer than a terminal event: tell EventSource to stop reconnecting.
        # (A just-stopped session may not have written session_stopped yet.)
        last_seq = await svc.db.run("last-seq", session_id=session_id)
        if next_seq > last_seq:
            last = await svc.db.run("select-events", session_id=session_id,
                                    from_seq=last_seq, limit=1)
            if last and record_from_row(last[0]).terminal:
                return Response("", status=204)
    body = app_state().streams.hold(user, stream_events(svc.db, svc.fanout, session_id, next_seq))
    response = Response(body, mimetype="text/event-stream", headers={
        "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    response.timeout = None  # else hypercorn/quart cut the stream after 60 s
    return response
