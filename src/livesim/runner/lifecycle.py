"""Creating sessions and applying controls: the rules between the API and the runner.

Everything a create checks happens before anything is written, so bad input never
leaves a row behind; a session whose market has holes (under ``gapPolicy: fail``)
is written once, already ``failed``, with its one ``session_failed`` event, in one
transaction.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from livesim.config import Settings
from livesim.db.bridge import Database
from livesim.errors import CandleGaps, Conflict, InvalidInput, NotFound, TooManyRequests
from livesim.eventlog import record_from_event
from livesim.market.store import CandleSet, load_candles
from livesim.runner.pacing import (
    Speed,
    parse_speed,
    speed_to_json,
    speed_to_text,
)
from livesim.runner.store import insert_records
from livesim.runner.supervisor import Supervisor
from livesim.sim.events import SessionFailed, canonical_json
from livesim.sim.profiles import InvalidConfig, UnknownProfile, resolve_config
from livesim.sim.status import Action, SessionStatus, next_status

RETRY_AFTER_S = 5


@dataclass(frozen=True)
class CreateRequest:
    """A validated create request (see :mod:`livesim.app.sessions` for parsing)."""

    profile_slug: str
    symbol: str
    timeframe: str
    start_ms: int
    end_ms: int
    speed: Speed
    config: dict[str, Any]
    gap_policy: str

    def digest(self) -> str:
        """Identifies the request's content, to tell a retry from a reused key."""
        body = {"profileSlug": self.profile_slug, "symbol": self.symbol,
                "timeframe": self.timeframe, "startMs": self.start_ms, "endMs": self.end_ms,
                "speed": speed_to_json(self.speed), "config": self.config,
                "gapPolicy": self.gap_policy}
        return hashlib.sha256(canonical_json(body).encode()).hexdigest()


@dataclass(frozen=True)
class Created:
    row: asyncpg.Record
    new: bool


async def create_session(db: Database, supervisor: Supervisor, settings: Settings,
                         user_id: str, request: CreateRequest,
                         idempotency_key: str | None) -> Created:
    """Validate, write and start a session; a retried idempotent create returns the first."""
    if idempotency_key is not None:
        existing = await db.run("get-session-by-idempotency-key", user_id=user_id,
                                idempotency_key=idempotency_key)
        if existing is not None:
            return Created(_same_request(existing, request), new=False)
    try:
        resolve_config(request.profile_slug, request.config)
    except UnknownProfile as error:
        raise InvalidInput(str(error), code="unknown_profile",
                           details=[{"field": "profileSlug", "message": str(error)}],
                           context={"valid": error.valid}) from error
    except InvalidConfig as error:
        raise InvalidInput("the config is invalid", code="invalid_config",
                           details=[{"field": f"config.{detail['field']}",
                                     "message": detail["message"]}
                                    for detail in error.details]) from error
    live = await db.run("count-user-live-sessions", user_id=user_id)
    if live >= settings.max_running_per_user:
        raise TooManyRequests(
            f"at most {settings.max_running_per_user} live sessions per user; stop one first",
            code="too_many_sessions", headers={"Retry-After": str(RETRY_AFTER_S)})
    candle_set = await load_candles(db, request.symbol, request.timeframe, request.start_ms,
                                    request.end_ms, max_candles=settings.max_candles_per_session)
    failing = bool(candle_set.gaps) and request.gap_policy == "fail"
    row = await _insert(db, user_id, request, idempotency_key, candle_set, failing)
    if row is None:  # an identical request with the same key won the race
        existing = await db.run("get-session-by-idempotency-key", user_id=user_id,
                                idempotency_key=idempotency_key)
        return Created(_same_request(existing, request), new=False)
    if failing:
        raise CandleGaps(f"the market has {len(candle_set.gaps)} gap(s) in the range",
                         details=[{"field": "startMs", "message": "the range has gaps; "
                                   "see error.gaps, or send gapPolicy skip"}],
                         context={"sessionId": str(row["id"]), "gaps": candle_set.gaps})
    await supervisor.start_session(row, candle_set)
    fresh = await db.run("get-session", id=row["id"])
    return Created(fresh, new=True)


def _same_request(existing: asyncpg.Record, request: CreateRequest) -> asyncpg.Record:
    if existing["request_hash"] != request.digest():
        raise Conflict("this Idempotency-Key was used with a different request",
                       code="idempotency_key_reused",
                       details=[{"field": "Idempotency-Key",
                                 "message": "used before with a different request"}],
                       context={"sessionId": str(existing["id"])})
    return existing


async def _insert(db: Database, user_id: str, request: CreateRequest,
                  idempotency_key: str | None, candle_set: CandleSet,
                  failing: bool) -> asyncpg.Record | None:
    error = {"code": "candle_gaps", "gaps": candle_set.gaps} if failing else None
    session_id = str(uuid.uuid4())
    async with db.transaction() as tx:
        row = await tx.run(
            "insert-session", id=session_id, user_id=user_id,
            profile_slug=request.profile_slug, symbol=request.symbol,
            timeframe=request.timeframe, start_ms=request.start_ms, end_ms=request.end_ms,
            speed=speed_to_text(request.speed), config=canonical_json(request.config),
            gap_policy=request.gap_policy, candle_count=len(candle_set.candles),
            status=SessionStatus.FAILED if failing else SessionStatus.CREATED,
            error=None if error is None else json.dumps(error),
            idempotency_key=idempotency_key, request_hash=request.digest())
        if row is not None and error is not None:
            failed = SessionFailed(ts=request.start_ms, error=error)
            await insert_records(tx, session_id, [record_from_event(1, failed)])
    return row


async def control_session(db: Database, supervisor: Supervisor, settings: Settings,
                          user_id: str, session_id: str, action: Action,
                          speed: object = None) -> asyncpg.Record:
    """Apply a control action; a repeat is a no-op, a senseless one a 409."""
    row = await get_user_session(db, user_id, session_id)
    for _attempt in range(3):  # a concurrent change of status: re-read and decide again
        status = SessionStatus(row["status"])
        target = next_status(status, action)
        if action is Action.SPEED:
            try:
                new_speed = parse_speed(speed, settings.max_speed)
            except ValueError as error:
                raise InvalidInput(str(error), code="invalid_speed",
                                   details=[{"field": "speed", "message": str(error)}]
                                   ) from error
            updated = await db.run("set-session-speed", id=session_id,
                                   speed=speed_to_text(new_speed))
        elif target == status:
            updated = row
        else:
            updated = await db.run("set-session-status", id=session_id, status=target.value,
                                   error=None, from_statuses=[status.value])
        if updated is not None:
            await supervisor.control(updated)
            return updated
        row = await get_user_session(db, user_id, session_id)
    raise Conflict("the session changed status while the control was applied; try again",
                   code="concurrent_change")


async def get_user_session(db: Database, user_id: str, session_id: str) -> asyncpg.Record:
    """The user's session, or 404 (another user's session is a 404 too)."""
    row = await db.run("get-user-session", id=session_id, user_id=user_id)
    if row is None:
        raise NotFound("no such session", code="session_not_found")
    return row
