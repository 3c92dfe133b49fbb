"""The events of a session's log and their canonical wire form.

Each event is an immutable value with the simulated time it happened at (``ts``,
epoch ms, taken from candles: never the wall clock) and a ``payload()`` of
camelCase keys.  The wire ``type`` is the spec's snake_case name.  Don't subclass
these outside this module: the set of types is the log's contract.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from livesim.sim.candles import Candle

Payload = dict[str, Any]


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                            allow_nan=False)
# json.dumps builds a JSONEncoder and a C encoder on every call, which costs more than
# encoding a small payload; the runner encodes every event, so build the C encoder once.
# Same C encoder and arguments as json.dumps, so the bytes are identical.  It keeps no
# circular-reference markers (no state shared between calls or threads): payloads are
# trees, and a cyclic value still fails, with RecursionError instead of ValueError.
_MAKE_ENCODER: Any = getattr(json.encoder, "c_make_encoder", None)  # absent from typeshed
_C_ENCODE: Any = None if _MAKE_ENCODER is None else _MAKE_ENCODER(
    None, _ENCODER.default, json.encoder.encode_basestring, None, ":", ",", True, False, False)


def canonical_json(value: Any) -> str:
    """Encode ``value`` as canonical JSON: sorted keys, no spaces, no NaN.

    The log digest and the bytes a client sees depend on this being the only
    encoder for payloads.
    """
    if _C_ENCODE is None or isinstance(value, str):
        return _ENCODER.encode(value)
    return "".join(_C_ENCODE(value, 0))


# The hot events' payloads (a candle and an equity snapshot per candle) are written
# with f-strings: 1.9 us an event instead of 2.8 (most of what is left is float repr).
# The bytes are the same: JSON writes an exact int or float as its repr, and keys
# appear here in sorted order.  Anything else (a bool, a numpy scalar) takes the
# encoder; so does a NaN or an infinity, so that it is refused exactly as the encoder
# refuses it.
_PLAIN = frozenset({float, int})


def _checked(text: str, event: Event) -> str:
    if "nan" in text or "inf" in text:  # no key holds either
        return canonical_json(event.payload())
    return text


def log_digest(rows: Iterable[tuple[int, int, str, Mapping[str, Any]]]) -> str:
    """SHA-256 over ``(seq, ts, type, payload)`` rows in canonical form."""
    digest = hashlib.sha256()
    for seq, ts, type_, payload in rows:
        digest.update(canonical_json([seq, ts, type_, payload]).encode())
        digest.update(b"\n")
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Event(ABC):
    """Base of every log event: ``ts`` is simulated time in epoch ms."""

    type: ClassVar[str]
    terminal: ClassVar[bool] = False
    ts: int

    @abstractmethod
    def payload(self) -> Payload:
        """The event's wire payload: camelCase keys, JSON-ready values."""

    def payload_json(self) -> str:
        """The payload as canonical JSON (what the log stores and clients receive)."""
        return canonical_json(self.payload())


@dataclass(frozen=True, slots=True)
class SessionStarted(Event):
    """First event (seq 1): what the session replays and with which settings."""

    type: ClassVar[str] = "session_started"
    info: Payload = field(default_factory=dict)

    def payload(self) -> Payload:
        return dict(self.info)


@dataclass(frozen=True, slots=True)
class CandleClosed(Event):
    """A candle was released to the strategy."""

    type: ClassVar[str] = "candle"
    candle: Candle | None = None

    def payload(self) -> Payload:
        assert self.candle is not None
        return self.candle.to_payload()

    def payload_json(self) -> str:
        # One of the two events of every candle: written out rather than encoded.
        c = self.candle
        assert c is not None
        o, h, lo, cl, v = c.open, c.high, c.low, c.close, c.volume
        if not (type(o) in _PLAIN and type(h) in _PLAIN and type(lo) in _PLAIN
                and type(cl) in _PLAIN and type(v) in _PLAIN and type(c.ts) is int):
            return canonical_json(self.payload())
        return _checked(f'{{"close":{cl!r},"high":{h!r},"low":{lo!r},"open":{o!r},'
                        f'"ts":{c.ts!r},"volume":{v!r}}}', self)


@dataclass(frozen=True, slots=True)
class OrderSubmitted(Event):
    """An order entered the book: from the strategy, an outside trader, or the broker.

    ``source`` is ``strategy``, ``user`` (an outside order, with its
    ``clientOrderId``) or ``broker`` (stop-loss / take-profit exits, the end-of-data
    close, a liquidation).  ``options`` holds the order's optional settings, each
    under its camelCase key and only when set (``limitPrice``, ``stopPrice``,
    ``stopLoss``, ``takeProfit``, ``expiresAfterCandles``, ``sizeFraction``,
    ``clientOrderId``), so a plain market order stays small.
    """

    type: ClassVar[str] = "order_submitted"
    order_id: int = 0
    side: str = "buy"  # buy | sell
    qty: float = 0
    reason: str = ""
    source: str = "strategy"  # strategy | user | broker
    order_type: str = "market"  # market | limit | stop
    options: Payload = field(default_factory=dict)

    def payload(self) -> Payload:
        out = {"orderId": self.order_id, "side": self.side, "qty": self.qty,
               "reason": self.reason, "source": self.source, "type": self.order_type}
        if self.options:
            out.update(self.options)
        return out


@dataclass(frozen=True, slots=True)
class OrderFilled(Event):
    """An order was executed at ``price``; ``commission`` was charged."""

    type: ClassVar[str] = "order_filled"
    order_id: int = 0
    side: str = "buy"
    qty: float = 0
    price: float = 0.0
    commission: float = 0.0

    def payload(self) -> Payload:
        return {"orderId": self.order_id, "side": self.side, "qty": self.qty,
                "price": self.price, "commission": self.commission}


@dataclass(frozen=True, slots=True)
class OrderRejected(Event):
    """An order could not be executed (zero size, nothing to close, ...)."""

    type: ClassVar[str] = "order_rejected"
    order_id: int = 0
    reason: str = ""

    def payload(self) -> Payload:
        return {"orderId": self.order_id, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class OrderCancelled(Event):
    """A working order was withdrawn: by its trader, a newer strategy signal, or liquidation."""

    type: ClassVar[str] = "order_cancelled"
    order_id: int = 0
    reason: str = ""
    client_order_id: str | None = None

    def payload(self) -> Payload:
        out: Payload = {"orderId": self.order_id, "reason": self.reason}
        if self.client_order_id is not None:
            out["clientOrderId"] = self.client_order_id
        return out


@dataclass(frozen=True, slots=True)
class OrderExpired(Event):
    """A limit or stop order reached ``expiresAfterCandles`` without filling."""

    type: ClassVar[str] = "order_expired"
    order_id: int = 0
    candles: int = 0
    client_order_id: str | None = None

    def payload(self) -> Payload:
        out: Payload = {"orderId": self.order_id, "candles": self.candles}
        if self.client_order_id is not None:
            out["clientOrderId"] = self.client_order_id
        return out


@dataclass(frozen=True, slots=True)
class CancelRejected(Event):
    """An outside cancel found no open order of the user's to cancel."""

    type: ClassVar[str] = "cancel_rejected"
    order_id: int | None = None
    client_order_id: str | None = None
    reason: str = ""

    def payload(self) -> Payload:
        out: Payload = {"reason": self.reason}
        if self.order_id is not None:
            out["orderId"] = self.order_id
        if self.client_order_id is not None:
            out["clientOrderId"] = self.client_order_id
        return out


@dataclass(frozen=True, slots=True)
class AccountLiquidated(Event):
    """Equity at a close was <= 0: every trade was closed there; no order is accepted after."""

    type: ClassVar[str] = "account_liquidated"
    equity: float = 0.0
    cash: float = 0.0
    trade_ids: tuple[int, ...] = ()

    def payload(self) -> Payload:
        return {"equity": self.equity, "cash": self.cash, "tradeIds": list(self.trade_ids)}


@dataclass(frozen=True, slots=True)
class TradeOpened(Event):
    """A position was opened; ``qty`` is always positive, ``side`` long|short."""

    type: ClassVar[str] = "trade_opened"
    trade_id: int = 0
    side: str = "long"
    qty: float = 0
    entry_ts: int = 0
    entry_price: float = 0.0

    def payload(self) -> Payload:
        return {"tradeId": self.trade_id, "side": self.side, "qty": self.qty,
                "entryTs": self.entry_ts, "entryPrice": self.entry_price}


@dataclass(frozen=True, slots=True)
class TradeClosed(Event):
    """A position was closed; ``pnl`` is net of entry and exit commission."""

    type: ClassVar[str] = "trade_closed"
    trade_id: int = 0
    side: str = "long"
    qty: float = 0
    entry_ts: int = 0
    entry_price: float = 0.0
    exit_ts: int = 0
    exit_price: float = 0.0
    pnl: float = 0.0
    commission: float = 0.0

    def payload(self) -> Payload:
        return {"tradeId": self.trade_id, "side": self.side, "qty": self.qty,
                "entryTs": self.entry_ts, "entryPrice": self.entry_price,
                "exitTs": self.exit_ts, "exitPrice": self.exit_price, "pnl": self.pnl,
                "commission": self.commission}


@dataclass(frozen=True, slots=True)
class EquitySnapshot(Event):
    """The account marked at the candle's close; one per candle, last of its events."""

    type: ClassVar[str] = "equity"
    equity: float = 0.0
    cash: float = 0.0
    position_qty: float = 0
    unrealized_pnl: float = 0.0
    realized_pnl: float = 0.0
    drawdown_pct: float = 0.0

    def payload(self) -> Payload:
        return {"equity": self.equity, "cash": self.cash, "positionQty": self.position_qty,
                "unrealizedPnl": self.unrealized_pnl, "realizedPnl": self.realized_pnl,
                "drawdownPct": self.drawdown_pct}

    def payload_json(self) -> str:
        # The other event of every candle (see CandleClosed.payload_json).
        e, c, q = self.equity, self.cash, self.position_qty
        u, r, d = self.unrealized_pnl, self.realized_pnl, self.drawdown_pct
        if not (type(e) in _PLAIN and type(c) in _PLAIN and type(q) in _PLAIN
                and type(u) in _PLAIN and type(r) in _PLAIN and type(d) in _PLAIN):
            return canonical_json(self.payload())
        return _checked(f'{{"cash":{c!r},"drawdownPct":{d!r},"equity":{e!r},'
                        f'"positionQty":{q!r},"realizedPnl":{r!r},"unrealizedPnl":{u!r}}}', self)


@dataclass(frozen=True, slots=True)
class SessionFinished(Event):
    """Terminal: the last candle was replayed; ``stats`` summarise the run."""

    type: ClassVar[str] = "session_finished"
    terminal: ClassVar[bool] = True
    stats: Payload = field(default_factory=dict)

    def payload(self) -> Payload:
        return {"stats": dict(self.stats)}


@dataclass(frozen=True, slots=True)
class SessionStopped(Event):
    """Terminal: a client stopped the session after ``candles`` candles."""

    type: ClassVar[str] = "session_stopped"
    terminal: ClassVar[bool] = True
    candles: int = 0
    stats: Payload = field(default_factory=dict)

    def payload(self) -> Payload:
        return {"candles": self.candles, "stats": dict(self.stats)}


@dataclass(frozen=True, slots=True)
class SessionFailed(Event):
    """Terminal: the session could not go on; ``error`` says why."""

    type: ClassVar[str] = "session_failed"
    terminal: ClassVar[bool] = True
    error: Payload = field(default_factory=dict)

    def payload(self) -> Payload:
        return {"error": dict(self.error)}


TERMINAL_TYPES = frozenset(
    cls.type for cls in (SessionFinished, SessionStopped, SessionFailed)
)
