"""Outside inputs to a session: orders, cancels and "close my position".

An input is a value, recorded by the runner with the index of the candle at which
it takes effect, and handed to :meth:`SessionEngine.step` with that candle.  The
log is a pure function of (candles, profile, config, inputs with their candle
index, stop point), so restarting a session and replaying its recorded inputs
reproduces the log byte for byte.

Each kind has a wire form (the camelCase JSON body of the HTTP request, also the
payload recorded in the database) and a pure check, :func:`input_problems`, that
lists every ``{field, message}`` problem of a body, so the HTTP layer can answer
400 before recording anything.  :func:`parse_input` turns a sound body into its
frozen dataclass (and raises :class:`InvalidInput` otherwise); ``to_payload`` is
its inverse.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from livesim.sim.orders import Problem, order_problems

CLIENT_ORDER_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
"""A client order id: 1-64 characters, letters, digits and ``._:-``, not starting with a mark."""

_NUMBER_KEYS = ("qty", "sizeFraction", "limitPrice", "stopPrice", "stopLoss", "takeProfit")


class InvalidInput(ValueError):
    """The input body does not validate; ``details`` is ``[{"field", "message"}, ...]``."""

    def __init__(self, details: list[Problem]) -> None:
        self.details = details
        super().__init__("invalid input: " + "; ".join(
            f"{d['field']}: {d['message']}" for d in details))


@dataclass(frozen=True, slots=True)
class SubmitOrder:
    """Place an order: market, limit or stop, sized by ``qty`` units or ``size_fraction``."""

    kind: ClassVar[str] = "submit_order"
    client_order_id: str
    side: str
    order_type: str = "market"
    qty: float | None = None  # as given (an int stays an int: whole units)
    size_fraction: float | None = None
    limit_price: float | None = None
    stop_price: float | None = None
    stop_loss: float | None = None
    take_profit: float | None = None
    expires_after_candles: int | None = None

    def to_payload(self) -> dict[str, Any]:
        """The camelCase wire body (unset options left out)."""
        out: dict[str, Any] = {"clientOrderId": self.client_order_id, "side": self.side,
                               "type": self.order_type}
        for key, value in (("qty", self.qty), ("sizeFraction", self.size_fraction),
                           ("limitPrice", self.limit_price), ("stopPrice", self.stop_price),
                           ("stopLoss", self.stop_loss), ("takeProfit", self.take_profit),
                           ("expiresAfterCandles", self.expires_after_candles)):
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True, slots=True)
class CancelOrder:
    """Cancel one of the user's open orders, by engine ``order_id`` or ``client_order_id``."""

    kind: ClassVar[str] = "cancel_order"
    order_id: int | None = None
    client_order_id: str | None = None

    def to_payload(self) -> dict[str, Any]:
        """The camelCase wire body."""
        if self.order_id is not None:
            return {"orderId": self.order_id}
        return {"clientOrderId": self.client_order_id}


@dataclass(frozen=True, slots=True)
class ClosePosition:
    """Flatten: close the open trade, whoever opened it, at the next fill price."""

    kind: ClassVar[str] = "close_position"

    def to_payload(self) -> dict[str, Any]:
        """The wire body: empty."""
        return {}


Input = SubmitOrder | CancelOrder | ClosePosition
INPUT_KINDS: dict[str, type[SubmitOrder] | type[CancelOrder] | type[ClosePosition]] = {
    cls.kind: cls for cls in (SubmitOrder, CancelOrder, ClosePosition)}


def _is_number(value: Any) -> bool:
    # bool is an int subclass; a JSON true is never a number here.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _client_id_problem(value: Any, name: str = "clientOrderId") -> Problem | None:
    if not isinstance(value, str) or CLIENT_ORDER_ID_RE.fullmatch(value) is None:
        return {"field": name, "message": "must be 1-64 characters: letters, digits and "
                                          "._:- (not first)"}
    return None


def _unknown_keys(body: Mapping[str, Any], allowed: tuple[str, ...]) -> list[Problem]:
    return [{"field": key, "message": f"unknown key; valid keys: {', '.join(allowed)}"}
            for key in sorted(body) if key not in allowed]


_SUBMIT_KEYS = ("clientOrderId", "side", "type", "qty", "sizeFraction", "limitPrice",
                "stopPrice", "stopLoss", "takeProfit", "expiresAfterCandles")


def _submit_problems(body: Mapping[str, Any], fractional: bool) -> list[Problem]:
    problems = _unknown_keys(body, _SUBMIT_KEYS)
    problem = _client_id_problem(body.get("clientOrderId"))
    if problem is not None:
        problems.append(problem)
    side, order_type = body.get("side"), body.get("type", "market")
    typed_ok = True
    for key in _NUMBER_KEYS:
        value = body.get(key)
        if value is None:
            continue
        if not _is_number(value):
            problems.append({"field": key, "message": "must be a number"})
            typed_ok = False
        elif not math.isfinite(value):
            problems.append({"field": key, "message": "must be a finite number"})
            typed_ok = False
    expires = body.get("expiresAfterCandles")
    if expires is not None and (not isinstance(expires, int) or isinstance(expires, bool)):
        problems.append({"field": "expiresAfterCandles", "message": "must be an integer"})
        typed_ok = False
    if not typed_ok:
        return problems
    problems.extend(order_problems(
        side=side if isinstance(side, str) else "", order_type=order_type
        if isinstance(order_type, str) else "", qty=body.get("qty"),
        size_fraction=body.get("sizeFraction"), limit_price=body.get("limitPrice"),
        stop_price=body.get("stopPrice"), stop_loss=body.get("stopLoss"),
        take_profit=body.get("takeProfit"), expires_after_candles=expires, sized=True))
    qty = body.get("qty")
    if not fractional and qty is not None and _is_number(qty) and qty != int(qty):
        problems.append({"field": "qty", "message": "must be whole units (the session's "
                                                    "fractional setting is off)"})
    return problems


def input_problems(kind: str, body: Any, *, fractional: bool = True) -> list[Problem]:
    """Every problem of the wire ``body`` of an input of ``kind`` (empty when sound).

    ``fractional`` is the session's setting: without it ``qty`` must be whole units.
    """
    if kind not in INPUT_KINDS:
        return [{"field": "kind", "message": "must be one of " + ", ".join(INPUT_KINDS)}]
    if not isinstance(body, Mapping) or not all(isinstance(k, str) for k in body):
        return [{"field": "body", "message": "must be an object"}]
    if kind == SubmitOrder.kind:
        return _submit_problems(body, fractional)
    if kind == ClosePosition.kind:
        return _unknown_keys(body, ())
    problems = _unknown_keys(body, ("orderId", "clientOrderId"))
    order_id, client_id = body.get("orderId"), body.get("clientOrderId")
    if (order_id is None) == (client_id is None):
        problems.append({"field": "orderId",
                         "message": "give exactly one of orderId and clientOrderId"})
    elif order_id is not None and (not isinstance(order_id, int) or isinstance(order_id, bool)
                                   or order_id < 1):
        problems.append({"field": "orderId", "message": "must be an integer >= 1"})
    elif client_id is not None:
        problem = _client_id_problem(client_id)
        if problem is not None:
            problems.append(problem)
    return problems


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def parse_input(kind: str, body: Any, *, fractional: bool = True) -> Input:
    """The input of ``kind`` described by the wire ``body``.

    Raises:
        InvalidInput: :func:`input_problems` found problems.
    """
    problems = input_problems(kind, body, fractional=fractional)
    if problems:
        raise InvalidInput(problems)
    if kind == ClosePosition.kind:
        return ClosePosition()
    if kind == CancelOrder.kind:
        return CancelOrder(body.get("orderId"), body.get("clientOrderId"))
    return SubmitOrder(
        client_order_id=body["clientOrderId"], side=body["side"],
        order_type=body.get("type", "market"), qty=body.get("qty"),
        size_fraction=_number(body.get("sizeFraction")),
        limit_price=_number(body.get("limitPrice")), stop_price=_number(body.get("stopPrice")),
        stop_loss=_number(body.get("stopLoss")), take_profit=_number(body.get("takeProfit")),
        expires_after_candles=body.get("expiresAfterCandles"))
