"""Outside inputs: every validation problem of a body, parsing, and the wire round trip."""

from __future__ import annotations

from typing import Any

import pytest

from livesim.sim.inputs import (
    CancelOrder,
    ClosePosition,
    InvalidInput,
    SubmitOrder,
    input_problems,
    parse_input,
)

BASE: dict[str, Any] = {"clientOrderId": "bot-1", "side": "buy", "type": "market", "qty": 1}


def problems(**changes: Any) -> list[dict[str, str]]:
    body = {**BASE, **changes}
    return input_problems("submit_order", {k: v for k, v in body.items() if v is not ...})


def test_input_sound_orders_have_no_problems() -> None:
    assert problems() == []
    assert problems(type="limit", limitPrice=95, stopLoss=90, takeProfit=99.5,
                    expiresAfterCandles=3) == []
    assert problems(side="sell", type="stop", qty=..., sizeFraction=0.5, stopPrice=95,
                    stopLoss=97, takeProfit=80) == []
    assert problems(type=..., qty=2.5) == []  # type defaults to market; fractional allowed


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"clientOrderId": ""}, "clientOrderId", "must be 1-64 characters: letters, digits and "
                                             "._:- (not first)"),
    ({"clientOrderId": "x" * 65}, "clientOrderId", "must be 1-64 characters: letters, digits "
                                                   "and ._:- (not first)"),
    ({"clientOrderId": 7}, "clientOrderId", "must be 1-64 characters: letters, digits and "
                                            "._:- (not first)"),
    ({"side": "long"}, "side", "must be one of 'buy', 'sell'"),
    ({"type": "stop_limit"}, "type", "must be one of 'market', 'limit', 'stop'"),
    ({"qty": -1}, "qty", "must be a finite number > 0 and <= 1e+15"),
    ({"qty": 0}, "qty", "must be a finite number > 0 and <= 1e+15"),
    ({"qty": float("nan")}, "qty", "must be a finite number"),
    ({"qty": float("inf")}, "qty", "must be a finite number"),
    ({"qty": "5"}, "qty", "must be a number"),
    ({"qty": True}, "qty", "must be a number"),
    ({"qty": ...}, "qty", "give exactly one of qty and sizeFraction"),
    ({"sizeFraction": 0.5}, "qty", "give exactly one of qty and sizeFraction"),
    ({"qty": ..., "sizeFraction": 1.5}, "sizeFraction", "must be > 0 and <= 1"),
    ({"type": "limit"}, "limitPrice", "a limit order needs limitPrice"),
    ({"type": "stop"}, "stopPrice", "a stop order needs stopPrice"),
    ({"limitPrice": 95}, "limitPrice", "only limit orders take limitPrice"),
    ({"type": "limit", "limitPrice": 95, "stopPrice": 90}, "stopPrice",
     "only stop orders take stopPrice"),
    ({"type": "limit", "limitPrice": -95}, "limitPrice",
     "must be a finite price > 0 and <= 1e+15"),
    ({"type": "limit", "limitPrice": 100, "stopLoss": 101}, "stopLoss",
     "must be below the order's price 100"),
    ({"type": "limit", "limitPrice": 100, "takeProfit": 99}, "takeProfit",
     "must be above the order's price 100"),
    ({"side": "sell", "type": "stop", "stopPrice": 100, "takeProfit": 101}, "takeProfit",
     "must be below the order's price 100"),
    ({"side": "sell", "type": "stop", "stopPrice": 100, "stopLoss": 99}, "stopLoss",
     "must be above the order's price 100"),
    ({"stopLoss": 110, "takeProfit": 105}, "stopLoss", "must be below takeProfit for a buy"),
    ({"side": "sell", "stopLoss": 90, "takeProfit": 95}, "stopLoss",
     "must be above takeProfit for a sell"),
    ({"expiresAfterCandles": 3}, "expiresAfterCandles", "only limit and stop orders can expire"),
    ({"type": "limit", "limitPrice": 95, "expiresAfterCandles": 0}, "expiresAfterCandles",
     "must be >= 1 and <= 1000000"),
    ({"type": "limit", "limitPrice": 95, "expiresAfterCandles": 1.5}, "expiresAfterCandles",
     "must be an integer"),
    ({"leverage": 3}, "leverage", "unknown key; valid keys: clientOrderId, side, type, qty, "
                                  "sizeFraction, limitPrice, stopPrice, stopLoss, takeProfit, "
                                  "expiresAfterCandles"),
])
def test_input_bad_order_names_field_and_rule(changes: dict[str, Any], field: str,
                                              message: str) -> None:
    assert problems(**changes) == [{"field": field, "message": message}]


def test_input_several_problems_are_reported_together() -> None:
    found = problems(clientOrderId="", side="hold", qty=-2, type="limit")
    assert [p["field"] for p in found] == ["clientOrderId", "side", "qty", "limitPrice"]


def test_input_whole_units_required_when_the_session_is_not_fractional() -> None:
    body = {**BASE, "qty": 1.5}
    assert input_problems("submit_order", body, fractional=True) == []
    assert input_problems("submit_order", body, fractional=False) == [
        {"field": "qty", "message": "must be whole units (the session's fractional setting "
                                    "is off)"}]
    assert input_problems("submit_order", {**BASE, "qty": 2.0}, fractional=False) == []


@pytest.mark.parametrize(("body", "field", "message"), [
    ({}, "orderId", "give exactly one of orderId and clientOrderId"),
    ({"orderId": 1, "clientOrderId": "a"}, "orderId",
     "give exactly one of orderId and clientOrderId"),
    ({"orderId": 0}, "orderId", "must be an integer >= 1"),
    ({"orderId": "7"}, "orderId", "must be an integer >= 1"),
    ({"orderId": True}, "orderId", "must be an integer >= 1"),
    ({"clientOrderId": "-x"}, "clientOrderId",
     "must be 1-64 characters: letters, digits and ._:- (not first)"),
])
def test_input_bad_cancel_names_field_and_rule(body: dict[str, Any], field: str,
                                               message: str) -> None:
    assert input_problems("cancel_order", body) == [{"field": field, "message": message}]


def test_input_close_position_takes_an_empty_body() -> None:
    assert input_problems("close_position", {}) == []
    assert input_problems("close_position", {"qty": 1})[0]["field"] == "qty"


@pytest.mark.parametrize(("kind", "body", "field"), [
    ("submit_order", [1], "body"),
    ("submit_order", None, "body"),
    ("teleport", {}, "kind"),
])
def test_input_not_an_object_or_unknown_kind(kind: str, body: Any, field: str) -> None:
    assert input_problems(kind, body)[0]["field"] == field


def test_input_parse_raises_with_details_and_round_trips() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_input("submit_order", {**BASE, "qty": -1})
    assert caught.value.details == [{"field": "qty", "message": "must be a finite number > 0 "
                                                                "and <= 1e+15"}]
    body = {"clientOrderId": "b", "side": "sell", "type": "stop", "sizeFraction": 0.25,
            "stopPrice": 95, "stopLoss": 99, "expiresAfterCandles": 4}
    parsed = parse_input("submit_order", body)
    assert parsed == SubmitOrder("b", "sell", "stop", None, 0.25, None, 95.0, 99.0, None, 4)
    assert parse_input(parsed.kind, parsed.to_payload()) == parsed
    for item in (CancelOrder(order_id=3), CancelOrder(client_order_id="b"), ClosePosition()):
        assert parse_input(item.kind, item.to_payload()) == item


def test_input_parse_keeps_an_integer_qty_whole() -> None:
    parsed = parse_input("submit_order", BASE)
    assert isinstance(parsed, SubmitOrder)
    assert parsed.qty == 1
    assert isinstance(parsed.qty, int)
