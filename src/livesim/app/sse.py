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

from collections.abc import AsyncIterator, Iterator

from quart import Blueprint, Response

from livesim.app import api
from livesim.app.session_view import get_user_session
from livesim.app.state import app_state
from livesim.app.tickets import stream_user
from livesim.bus.fanout import Fanout, Tick, Wake
from livesim.db.bridge import Database
from livesim.errors import Unavailable
from livesim.eventlog import record_from_row
from livesim.status import TERMINAL, SessionStatus

blueprint = Blueprint("sse", __name__)
BACKLOG_PAGE = 500
RETRY_MS = 2000
HEARTBEAT = ": heartbeat\n\n"
# Bytes (as characters: frames are ASCII-safe JSON) per write to a client.
CHUNK_CHARS = 64 * 1024


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
        with fanout.subscribe(session_id, next_seq) as subscription:
            catch_up = True
            quiet = True  # nothing live since the last tick
            while True:
                if catch_up:
                    catch_up = False
                    try:
                        while True:
                            chunks, next_seq, ended, more = await _backlog_page(
                                db, session_id, next_seq)
                            for chunk in chunks:
                                yield chunk
                            if ended:
                                return
                            if not more:
                                break
                    except Unavailable:
                        catch_up = True  # the database is away: heartbeats go on, retry at a tick
                subscription.next_seq = next_seq
                items, cut = await subscription.receive_all()
                frames: list[str] = []
                ended = False
                for item in items:
                    if isinstance(item, Tick):
                        # a quiet spell: check the database too, for a lost wake-up
                        catch_up = catch_up or quiet
                        quiet = True
                        frames.append(HEARTBEAT)
                        continue
                    quiet = False
                    if isinstance(item, Wake):
                        catch_up = catch_up or item.last_seq >= next_seq
                        continue
                    for record, frame in zip(item.records, item.frames, strict=True):
                        if record.seq < next_seq:
                            continue
                        if record.seq > next_seq or ended:
                            catch_up = not ended
                            break
                        frames.append(frame)
                        next_seq += 1
                        ended = record.terminal
                for chunk in _chunks(frames):
                    yield chunk
                if ended:
                    return
                if cut:
                    break  # resubscribe, then read the rest from the database


async def _backlog_page(db: Database, session_id: str, next_seq: int
                        ) -> tuple[list[str], int, bool, bool]:
    """One page of the log from ``next_seq`` on, as chunks: (chunks, the next seq,
    whether the log ended, whether more may follow)."""
    rows = await db.run("select-events", session_id=session_id, from_seq=next_seq,
                        limit=BACKLOG_PAGE)
    frames: list[str] = []
    for row in rows:
        record = record_from_row(row)
        frames.append(record.sse_frame())
        next_seq = record.seq + 1
        if record.terminal:  # nothing after a terminal event is ever sent
            return list(_chunks(frames)), next_seq, True, False
    return list(_chunks(frames)), next_seq, False, len(rows) == BACKLOG_PAGE


def _chunks(frames: list[str]) -> Iterator[str]:
    """Join frames into writes of at most about CHUNK_CHARS, so a stream that a slow
    client holds up holds one bounded chunk, not a whole batch."""
    chunk: list[str] = []
    size = 0
    for frame in frames:
        chunk.append(frame)
        size += len(frame)
        if size >= CHUNK_CHARS:
            yield "".join(chunk)
            chunk, size = [], 0
    if chunk:
        yield "".join(chunk)


@api.STREAM.route(blueprint)
async def stream(session_id: str) -> Response:
    user = await stream_user(session_id)  # Authorization, or ?ticket= for EventSource
    svc = app_state().services
    row = await get_user_session(svc.db, user, session_id)
    next_seq = first_seq()
    if SessionStatus(row["status"]) in TERMINAL:
        # A terminal status is written with its terminal event, the log's last: nothing
        # newer will come, so tell EventSource to stop reconnecting.
        if next_seq > await svc.db.run("last-seq", session_id=session_id):
            return Response("", status=204)
    body = app_state().streams.hold(user, stream_events(svc.db, svc.fanout, session_id, next_seq))
    response = Response(body, mimetype="text/event-stream", headers={
        "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    response.timeout = None  # else hypercorn/quart cut the stream after 60 s
    return response
