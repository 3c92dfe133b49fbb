"""A session's log as records: the durable, numbered form of sim events.

A :class:`LogRecord` is what the database stores and what every subscriber sees:
``seq``, simulated ``ts``, ``type`` and the payload already encoded as canonical
JSON, so the bytes sent to a client never depend on who encoded them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from livesim.sim.events import TERMINAL_TYPES, Event, canonical_json


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One event of a session's log, as stored and as streamed."""

    seq: int
    ts: int
    type: str
    payload_json: str

    @property
    def terminal(self) -> bool:
        return self.type in TERMINAL_TYPES

    def envelope_json(self) -> str:
        """``{"payload":…,"seq":…,"ts":…,"type":…}`` in canonical form, cheaply."""
        # Keys in sorted order, matching canonical_json of the same dict.
        return (f'{{"payload":{self.payload_json},"seq":{self.seq},"ts":{self.ts},'
                f'"type":{json.dumps(self.type)}}}')

    def sse_frame(self) -> str:
        """The Server-Sent Events frame: ``id`` / ``event`` / ``data`` lines."""
        return f"id: {self.seq}\nevent: {self.type}\ndata: {self.envelope_json()}\n\n"

    def to_json_obj(self) -> dict[str, Any]:
        return {"seq": self.seq, "ts": self.ts, "type": self.type,
                "payload": json.loads(self.payload_json)}


def record_from_event(seq: int, event: Event) -> LogRecord:
    """Number and encode a sim event."""
    return LogRecord(seq, event.ts, event.type, canonical_json(event.payload()))


def record_from_row(row: Mapping[str, Any]) -> LogRecord:
    """Rebuild a record from a ``sim_events`` row (payload as jsonb text).

    jsonb reorders keys and respaces, so the payload is re-encoded canonically:
    the stream's bytes are the same whether an event came live or from the backlog.
    """
    return LogRecord(row["seq"], row["ts"], row["type"],
                     canonical_json(json.loads(row["payload"])))
