"""A session's log as records: the durable, numbered form of sim events.

A :class:`LogRecord` is what the database stores and what every subscriber sees:
``seq``, simulated ``ts``, ``type`` and the payload already encoded as canonical
JSON, so the bytes sent to a client never depend on who encoded them.

Cost matters here: every event of every session passes through this module once
when it is made and once per SSE frame, and backlog readers rebuild records from
rows.  Hence a tuple-based record (cheaper to make than a frozen dataclass), frames
rendered in one f-string, and payloads stored as the canonical text itself, so a
row becomes a record without decoding anything.  Figures: ``just bench``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple

from livesim.sim.events import TERMINAL_TYPES, Event, canonical_json


class LogRecord(NamedTuple):
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
                f'"type":{_quoted(self.type)}}}')

    def sse_frame(self) -> str:
        """The Server-Sent Events frame: ``id`` / ``event`` / ``data`` lines."""
        # envelope_json inlined: one string built instead of two
        return (f'id: {self.seq}\nevent: {self.type}\ndata: {{"payload":{self.payload_json},'
                f'"seq":{self.seq},"ts":{self.ts},"type":{_quoted(self.type)}}}\n\n')

    def to_json_obj(self) -> dict[str, Any]:
        return {"seq": self.seq, "ts": self.ts, "type": self.type,
                "payload": json.loads(self.payload_json)}


_QUOTED_TYPES: dict[str, str] = {}


def _quoted(type_: str) -> str:
    """``type_`` as a JSON string; there are a dozen types, so each is encoded once."""
    quoted = _QUOTED_TYPES.get(type_)
    if quoted is None:
        quoted = _QUOTED_TYPES[type_] = canonical_json(type_)
    return quoted


def record_from_event(seq: int, event: Event) -> LogRecord:
    """Number and encode a sim event."""
    return LogRecord(seq, event.ts, event.type, event.payload_json())


def record_from_row(row: Mapping[str, Any]) -> LogRecord:
    """Rebuild a record from a ``sim_events`` row: its payload is the canonical text.

    Rows written before migration 0008 hold jsonb's form (keys reordered, spaces
    added) and are marked ``reencode``: they are re-encoded, so the stream's bytes are
    the same whether an event came live or from the backlog.
    """
    payload = row["payload"]
    if row["reencode"]:
        payload = canonical_json(json.loads(payload))
    return LogRecord(row["seq"], row["ts"], row["type"], payload)
