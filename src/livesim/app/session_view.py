"""The HTTP view of a session: its JSON form and the caller's-own-session rule."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import asyncpg

from livesim.db.bridge import Database
from livesim.errors import NotFound
from livesim.runner.pacing import speed_from_text, speed_to_json
from livesim.sim.candles import timeframe_ms
from livesim.status import SessionStatus


async def get_user_session(db: Database, user_id: str, session_id: str) -> asyncpg.Record:
    """The user's session, or 404 (another user's session is a 404 too).

    ``session_id`` is canonical already: the route's ``session`` converter made it so.
    """
    row = await db.run("get-user-session", id=session_id, user_id=user_id)
    if row is None:
        raise NotFound("no such session", code="session_not_found")
    return row


def session_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """The API's view of a session row (camelCase, with lastSeq and progress)."""
    return {
        "id": str(row["id"]), "profileSlug": row["profile_slug"], "symbol": row["symbol"],
        "timeframe": row["timeframe"], "startMs": row["start_ms"], "endMs": row["end_ms"],
        "speed": speed_to_json(speed_from_text(row["speed"])),
        "config": json.loads(row["config"]), "gapPolicy": row["gap_policy"],
        "status": row["status"],
        "error": None if row["error"] is None else json.loads(row["error"]),
        "candleCount": row["candle_count"], "lastSeq": row.get("last_seq") or 0,
        "stopRequested": row["stop_requested"],
        "progress": progress(row, row.get("last_ts"), timeframe_ms(row["timeframe"])),
        "createdAt": row["created_at"].isoformat(), "updatedAt": row["updated_at"].isoformat(),
    }


def progress(row: Mapping[str, Any], last_ts: int | None, timeframe_ms: int) -> float:
    """Share of the range replayed, 0..1, from the newest event's simulated time."""
    if row["status"] == SessionStatus.FINISHED:
        return 1.0
    if last_ts is None or row["candle_count"] == 0:
        return 0.0
    span: int = row["end_ms"] - row["start_ms"]
    done: int = last_ts + timeframe_ms - row["start_ms"] if last_ts > row["start_ms"] else 0
    return round(min(1.0, max(0.0, done / span)), 4)
