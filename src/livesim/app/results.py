"""A session's results over HTTP, read from its log (``sim_events``), never recomputed.

- ``GET /api/sim/sessions/<id>/trades``: the ``trade_closed`` events;
- ``GET /api/sim/sessions/<id>/equity``: the ``equity`` snapshots, every one, every
  ``N``-th (``?every=N``, the last one always included so the curve ends where the
  session does) or the newest ``N`` (``?tail=N``);
- both as JSON, or as CSV with ``?format=csv`` or ``Accept: text/csv`` (the query wins);
- ``GET /api/sim/sessions/<id>/log.ndjson``: the whole log, one event a line, each line
  the same canonical JSON as the stream's ``data:`` field;
- :func:`final_stats`: ``session_finished.stats`` for the session view once finished.

Bodies are streamed page by page, so a 100k-candle session costs bounded memory.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any

from quart import Blueprint, Response, request

from livesim.app import api
from livesim.app.auth import require_user
from livesim.app.session_view import get_user_session, session_json
from livesim.app.state import app_state
from livesim.db.bridge import Database
from livesim.errors import InvalidInput
from livesim.eventlog import LogRecord, record_from_row
from livesim.sim.events import EquitySnapshot, SessionFinished, TradeClosed, canonical_json
from livesim.status import SessionStatus

blueprint = Blueprint("results", __name__)

PAGE = 5000
MEDIA_TYPES = {"json": "application/json", "csv": "text/csv"}
NDJSON = "application/x-ndjson"
# CSV columns: the payload's own keys, in the order the event declares them.
TRADE_COLUMNS = ("seq", *TradeClosed(ts=0).payload())
EQUITY_COLUMNS = ("seq", "ts", *EquitySnapshot(ts=0).payload())


def _trade_row(record: LogRecord) -> dict[str, Any]:
    return {"seq": record.seq, **json.loads(record.payload_json)}


def _equity_row(record: LogRecord) -> dict[str, Any]:
    return {"seq": record.seq, "ts": record.ts, **json.loads(record.payload_json)}


def output_format(given: str | None) -> str:
    """``json`` or ``csv``: ``?format=`` if given, else the ``Accept`` header's choice."""
    if given:
        return given
    best = request.accept_mimetypes.best_match([MEDIA_TYPES["json"], MEDIA_TYPES["csv"]])
    return "csv" if best == MEDIA_TYPES["csv"] else "json"


async def records_of_type(db: Database, session_id: str, event_type: str
                          ) -> AsyncIterator[list[LogRecord]]:
    """Every event of one type in the session's log, in seq order, a page at a time."""
    from_seq = 1
    while True:
        rows = await db.run("select-events-of-type", session_id=session_id, type=event_type,
                            from_seq=from_seq, limit=PAGE)
        if not rows:
            return
        records = [record_from_row(row) for row in rows]
        yield records
        if len(rows) < PAGE:
            return
        from_seq = records[-1].seq + 1


async def every_nth(pages: AsyncIterator[list[LogRecord]], every: int
                    ) -> AsyncIterator[list[LogRecord]]:
    """Records 0, N, 2N... of ``pages``, and the last record whatever its index."""
    index = 0
    held: LogRecord | None = None  # the newest record not taken (yet)
    async for page in pages:
        taken = []
        for record in page:
            if index % every == 0:
                taken.append(record)
                held = None
            else:
                held = record
            index += 1
        if taken:
            yield taken
    if held is not None:
        yield [held]


async def _one_page(records: list[LogRecord]) -> AsyncIterator[list[LogRecord]]:
    yield records


def csv_line(values: Iterable[Any]) -> str:
    """One CSV line (``\\r\\n``-terminated, RFC 4180); floats as Python's shortest repr."""
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


async def _body(pages: AsyncIterator[list[LogRecord]], fmt: str, key: str,
                columns: tuple[str, ...], to_row: Callable[[LogRecord], dict[str, Any]],
                head: Mapping[str, Any]
                ) -> AsyncIterator[bytes]:
    if fmt == "csv":
        yield csv_line(columns).encode()
        async for page in pages:
            yield "".join(csv_line(to_row(r)[c] for c in columns) for r in page).encode()
        return
    # {...head, "<key>": [...]}: streamed, so the list comes last
    opening = "{" + "".join(f"{json.dumps(name)}:{canonical_json(value)},"
                            for name, value in sorted(head.items())) + f'"{key}":['
    closing = "]}"
    yield opening.encode()
    first = True
    async for page in pages:
        items = ",".join(canonical_json(to_row(r)) for r in page)
        yield (items if first else "," + items).encode()
        first = False
    yield closing.encode()


def _download(body: AsyncIterator[bytes], fmt: str, session_id: str, name: str) -> Response:
    response = Response(body, mimetype=MEDIA_TYPES[fmt])
    if fmt == "csv":
        response.headers["Content-Disposition"] = (
            f'attachment; filename="livesim-{session_id}-{name}.csv"')
    response.headers["Vary"] = "Accept"
    response.timeout = None  # a long log may take longer than the default response timeout
    return response


@api.TRADES.route(blueprint)
async def trades(session_id: str) -> Response:
    user = await require_user()
    state = app_state()
    db = state.services.db
    fmt = output_format(api.TRADES.query_values(state.settings)["format"])
    await get_user_session(db, user, session_id)
    pages = records_of_type(db, session_id, TradeClosed.type)
    return _download(_body(pages, fmt, "trades", TRADE_COLUMNS, _trade_row, {}), fmt,
                     session_id, "trades")


@api.EQUITY.route(blueprint)
async def equity(session_id: str) -> Response:
    user = await require_user()
    state = app_state()
    db = state.services.db
    query = api.EQUITY.query_values(state.settings)
    await get_user_session(db, user, session_id)
    fmt = output_format(query["format"])
    every, tail = query["every"], query["tail"]
    if every is not None and tail is not None:
        raise InvalidInput("give every or tail, not both", code="results_window",
                           details=[{"field": "tail", "message": "not with every"}])
    if tail is not None:
        rows = await db.run("select-last-events-of-type", session_id=session_id,
                            type=EquitySnapshot.type, limit=tail)
        pages = _one_page([record_from_row(row) for row in reversed(rows)])
    else:
        pages = every_nth(records_of_type(db, session_id, EquitySnapshot.type), every or 1)
    head = {"every": every or 1} if tail is None else {"tail": tail}
    return _download(_body(pages, fmt, "equity", EQUITY_COLUMNS, _equity_row, head), fmt,
                     session_id, "equity")


async def _log_lines(db: Database, session_id: str) -> AsyncIterator[bytes]:
    from_seq = 1
    while True:
        rows = await db.run("select-events", session_id=session_id, from_seq=from_seq,
                            limit=PAGE)
        records = [record_from_row(row) for row in rows]
        if records:
            yield "".join(r.envelope_json() + "\n" for r in records).encode()
            from_seq = records[-1].seq + 1
        if len(records) < PAGE:
            return


@api.LOG_NDJSON.route(blueprint)
async def log_ndjson(session_id: str) -> Response:
    user = await require_user()
    state = app_state()
    db = state.services.db
    api.LOG_NDJSON.query_values(state.settings)
    await get_user_session(db, user, session_id)
    response = Response(_log_lines(db, session_id), mimetype=NDJSON)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="livesim-{session_id}.ndjson"')
    response.timeout = None
    return response


async def final_stats(db: Database, row: Mapping[str, Any]) -> dict[str, Any] | None:
    """``session_finished.stats`` of a finished session, else ``None``."""
    if row["status"] != SessionStatus.FINISHED:
        return None
    rows = await db.run("select-last-events-of-type", session_id=row["id"],
                        type=SessionFinished.type, limit=1)
    if not rows:
        return None
    stats: dict[str, Any] = json.loads(rows[0]["payload"])["stats"]
    return stats


async def session_view(db: Database, row: Mapping[str, Any]) -> dict[str, Any]:
    """The API's view of one session, with ``stats`` (``None`` until it has finished)."""
    return {**session_json(row), "stats": await final_stats(db, row)}
