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
import trio

from livesim.config import Settings
from livesim.db.bridge import Database
from livesim.errors import CandleGaps, Conflict, InvalidInput, NotFound, TooManyRequests
from livesim.eventlog import record_from_event
from livesim.market.store import load_candles
from livesim.runner.pacing import (
    Speed,
    parse_speed,
    speed_to_json,
    speed_to_text,
)
from livesim.runner.session import SessionPlan, opening_record
from livesim.runner.supervisor import Supervisor
from livesim.sim.candles import timeframe_ms
from livesim.sim.events import SessionFailed, canonical_json
from livesim.sim.profiles import InvalidConfig, UnknownProfile, resolve_config
from livesim.status import LIVE_VALUES, TERMINAL, Action, SessionStatus, next_status

RETRY_AFTER_S = 5
# How long a stop request waits for the runner to write session_stopped.
STOP_WAIT_S, STOP_POLL_S = 3.0, 0.02


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
    """Validate, write and start a session; a retried idempotent create returns the first.

    The row, its owner and its first event are one statement: a create that does not
    answer leaves nothing, or a session that runs (here, or adopted once its lease runs
    out if this process dies before it starts it).
    """
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
    live = await db.run("count-user-live-sessions", user_id=user_id, live=LIVE_VALUES)
    if live >= settings.max_running_per_user:
        raise TooManyRequests(
            f"at most {settings.max_running_per_user} live sessions per user; stop one first",
            code="too_many_sessions", headers={"Retry-After": str(RETRY_AFTER_S)})
    candle_set = await load_candles(db, request.symbol, request.timeframe, request.start_ms,
                                    request.end_ms, max_candles=settings.max_candles_per_session)
    session_id = str(uuid.uuid4())
    failing = bool(candle_set.gaps) and request.gap_policy == "fail"
    plan = SessionPlan(session_id=session_id, profile_slug=request.profile_slug,
                       symbol=request.symbol, timeframe=request.timeframe,
                       start_ms=request.start_ms, end_ms=request.end_ms, config=request.config,
                       gap_policy=request.gap_policy, candles=candle_set.candles,
                       gaps=candle_set.gaps)
    failure = {"code": "candle_gaps", "gaps": candle_set.gaps} if failing else None
    first = (record_from_event(1, SessionFailed(ts=request.start_ms, error=failure))
             if failure is not None else opening_record(plan))
    row = await db.run(
        "create-session", id=session_id, user_id=user_id,
        profile_slug=request.profile_slug, symbol=request.symbol,
        timeframe=request.timeframe, start_ms=request.start_ms, end_ms=request.end_ms,
        speed=speed_to_text(request.speed), config=canonical_json(request.config),
        gap_policy=request.gap_policy, candle_count=len(candle_set.candles),
        status=SessionStatus.FAILED if failing else SessionStatus.RUNNING,
        error=None if failure is None else json.dumps(failure),
        idempotency_key=idempotency_key, request_hash=request.digest(),
        owner=None if failing else supervisor.process_id,
        event_ts=first.ts, event_type=first.type, event_payload=first.payload_json)
    if row is None:  # an identical request with the same key won the race
        existing = await db.run("get-session-by-idempotency-key", user_id=user_id,
                                idempotency_key=idempotency_key)
        return Created(_same_request(existing, request), new=False)
    if failing:
        raise CandleGaps(f"the market has {len(candle_set.gaps)} gap(s) in the range",
                         details=[{"field": "startMs", "message": "the range has gaps; "
                                   "see error.gaps, or send gapPolicy skip"}],
                         context={"sessionId": session_id, "gaps": candle_set.gaps})
    await supervisor.start_created(row, plan)
    return Created(row, new=True)


def _same_request(existing: asyncpg.Record, request: CreateRequest) -> asyncpg.Record:
    if existing["request_hash"] != request.digest():
        raise Conflict("this Idempotency-Key was used with a different request",
                       code="idempotency_key_reused",
                       details=[{"field": "Idempotency-Key",
                                 "message": "used before with a different request"}],
                       context={"sessionId": str(existing["id"])})
    return existing


@dataclass(frozen=True)
class Control:
    """A checked control request: the action and the value it carries, if any."""

    action: Action
    speed: object = None  # the speed action: a multiplier or "max" ...
    bars_per_second: float | None = None  # ... or a pace in bars per second
    candles: int = 0  # step
    to_ms: int | None = None  # seek


def _speed_of(control: Control, timeframe: str, settings: Settings) -> Speed:
    if control.bars_per_second is not None:  # its range is checked at the edge
        # a multiplier: this many timeframes of market time per second of wall time
        return control.bars_per_second * timeframe_ms(timeframe) / 1000
    try:
        return parse_speed(control.speed, settings.max_speed)
    except ValueError as error:
        raise InvalidInput(str(error), code="invalid_speed",
                           details=[{"field": "speed", "message": str(error)}]) from error


async def control_session(db: Database, supervisor: Supervisor, settings: Settings,
                          user_id: str, session_id: str, control: Control) -> asyncpg.Record:
    """Apply a control action; a repeat is a no-op, a senseless one a 409.

    Pause, resume, step and seek are the client's to write (step and seek leave the
    session paused, with candles for the runner to release); a stop is a request that
    the owning runner carries out (it writes ``stopped`` with ``session_stopped``), so
    this waits a moment for it and answers with the session as it then stands.
    """
    action = control.action
    row = await get_user_session(db, user_id, session_id)
    for _attempt in range(3):  # a concurrent change of status: re-read and decide again
        status = SessionStatus(row["status"])
        target = next_status(status, action, stop_requested=row["stop_requested"])
        live = {"id": row["id"], "live": LIVE_VALUES}
        if action is Action.SPEED:
            new_speed = _speed_of(control, row["timeframe"], settings)
            updated = await db.run("set-session-speed", speed=speed_to_text(new_speed), **live)
        elif action is Action.STOP:
            updated = row if status in TERMINAL or row["stop_requested"] else await db.run(
                "request-stop", **live)
        elif action is Action.STEP:
            updated = await db.run("request-step", candles=control.candles,
                                   status=target.value, **live)
        elif action is Action.SEEK:
            await _check_forward(db, user_id, session_id, control.to_ms)
            updated = await db.run("request-seek", to_ms=control.to_ms, status=target.value,
                                   **live)
        elif target == status:
            updated = row
        else:
            updated = await db.run("set-session-status", id=row["id"], status=target.value,
                                   from_statuses=[status.value])
        if updated is not None:
            if SessionStatus(updated["status"]) not in TERMINAL:
                await supervisor.control(updated)
            if action is Action.STOP:
                return await _wait_ended(db, user_id, str(row["id"]), updated)
            return updated
        row = await get_user_session(db, user_id, session_id)
    raise Conflict("the session changed status while the control was applied; try again",
                   code="concurrent_change")


async def _check_forward(db: Database, user_id: str, session_id: str, to_ms: int | None
                         ) -> None:
    # Seek goes forward only: the log cannot be taken back.
    progress = await db.run("get-user-session-progress", id=session_id, user_id=user_id)
    last_ts = progress["last_ts"] if progress is not None else None
    if to_ms is None or (last_ts is not None and to_ms <= last_ts):
        raise Conflict("seek goes forward only: the replay is already past that time",
                       code="seek_backwards",
                       details=[{"field": "toMs", "message": f"must be after {last_ts}"}])


async def _wait_ended(db: Database, user_id: str, session_id: str,
                      row: asyncpg.Record) -> asyncpg.Record:
    # The owner ends the session at its next candle boundary, within milliseconds when
    # it is alive; a session whose owner is gone ends when it is adopted.
    with trio.move_on_after(STOP_WAIT_S):
        while SessionStatus(row["status"]) not in TERMINAL:
            await trio.sleep(STOP_POLL_S)
            row = await get_user_session(db, user_id, session_id)
    return row


async def get_user_session(db: Database, user_id: str, session_id: str) -> asyncpg.Record:
    """The user's session, or 404 (another user's session is a 404 too)."""
    row = await db.run("get-user-session", id=session_id, user_id=user_id)
    if row is None:
        raise NotFound("no such session", code="session_not_found")
    return row
