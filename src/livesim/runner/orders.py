"""Orders from outside a session: recording them as inputs, and reading what is open.

An order, a cancel or a close is recorded as a *pending* input (idempotent by its key:
the clientOrderId, ``cancel:<clientOrderId>``; each close is a new one), and
the owning runner is told.  The runner takes pending inputs at its next candle
boundary and records their candle index (fenced) before it computes that candle, so
the log stays a pure function of its inputs (see :mod:`livesim.runner.session`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg

from livesim.db.bridge import Database
from livesim.errors import Conflict, Detail, InvalidInput
from livesim.runner.supervisor import Supervisor
from livesim.sim.events import (
    AccountLiquidated,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
    canonical_json,
)
from livesim.sim.inputs import CancelOrder, ClosePosition, SubmitOrder, input_problems
from livesim.status import LIVE_VALUES

ORDER_EVENT_TYPES = [event.type for event in (
    OrderSubmitted, OrderFilled, OrderRejected, OrderCancelled, OrderExpired,
    AccountLiquidated)]
# Events after which an order is no longer open.
_CLOSING_TYPES = {OrderFilled.type, OrderRejected.type, OrderCancelled.type, OrderExpired.type}


@dataclass(frozen=True)
class Recorded:
    """An input as recorded, and whether this request recorded it (or a retry found it)."""

    row: asyncpg.Record
    new: bool

    def to_json(self) -> dict[str, Any]:
        body = json.loads(self.row["body"])
        index = self.row["candle_index"]
        return {"clientOrderId": body.get("clientOrderId"), "kind": self.row["kind"],
                "status": "pending" if index is None else "recorded", "candleIndex": index}


async def record_input(db: Database, supervisor: Supervisor, session: Mapping[str, Any],
                       kind: str, body: dict[str, Any]) -> Recorded:
    """Check and record one input of the session, then wake its runner.

    Raises:
        InvalidInput: the body breaks an order rule (nothing is recorded).
        Conflict: the key was used with another body, or the session is over or stopping.
    """
    fractional = bool(json.loads(session["config"]).get("fractional", False))
    problems = input_problems(kind, body, fractional=fractional)
    if problems:
        raise InvalidInput("the order is invalid", code="invalid_order",
                           details=[Detail(field=p["field"], message=p["message"])
                                    for p in problems])
    key = _key_of(kind, body)
    digest = hashlib.sha256(canonical_json({"kind": kind, "body": body}).encode()).hexdigest()
    row = await db.run("record-input", session_id=session["id"], key=key, kind=kind,
                       body=canonical_json(body), request_hash=digest, live=LIVE_VALUES)
    if row is None:
        existing = await db.run("get-input", session_id=session["id"], key=key)
        if existing is None:
            raise Conflict("the session is over or stopping: it takes no more orders",
                           code="session_not_live",
                           details=[{"field": "session_id", "message": "not live"}])
        if existing["request_hash"] != digest:
            raise Conflict("this id was used with a different request",
                           code="order_id_reused",
                           details=[{"field": "clientOrderId",
                                     "message": "already used with another body"}])
        return Recorded(existing, new=False)
    await supervisor.control(session, inputs_pending=True)  # taken at the next candle
    return Recorded(row, new=True)


def _key_of(kind: str, body: Mapping[str, Any]) -> str:
    if kind == SubmitOrder.kind:
        return str(body["clientOrderId"])
    if kind == CancelOrder.kind:
        return f"cancel:{body.get('clientOrderId', body.get('orderId'))}"
    assert kind == ClosePosition.kind
    return f"close:{uuid.uuid4()}"  # no key given: every close is a new one


def open_orders(events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The orders still open after ``events`` (order events in log order, as rows)."""
    book: dict[int, dict[str, Any]] = {}
    for event in events:
        payload = json.loads(event["payload"])
        if event["type"] == OrderSubmitted.type:
            book[payload["orderId"]] = {**payload, "submittedTs": event["ts"]}
        elif event["type"] in _CLOSING_TYPES:
            book.pop(payload["orderId"], None)
        elif event["type"] == AccountLiquidated.type:
            book.clear()
    return list(book.values())


async def orders_of(db: Database, session_id: str) -> dict[str, Any]:
    """Open orders (from the log) and inputs not yet taken by the runner."""
    events = await db.run("order-events", session_id=session_id, types=ORDER_EVENT_TYPES)
    pending = await db.run("pending-inputs", session_id=session_id)
    return {"orders": open_orders(events),
            "pending": [{"kind": row["kind"], **json.loads(row["body"])} for row in pending]}
