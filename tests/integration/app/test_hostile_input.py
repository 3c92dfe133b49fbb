"""Hostile input is a 4xx, never a 5xx (issue 7, item 7).

The property test feeds every body field, query parameter and header the contract
declares (read from the operations themselves, so a new route is covered without
editing this file) JSON integers of any size, non-ASCII digits and odd Unicode, on a
real session.  The fixed cases are the ones that used to answer 500.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
import hypothesis
import pytest
import trio
from hypothesis import strategies as st

from livesim.app import api
from livesim.app.openapi import app_operations
from livesim.app.operation import Operation
from tests.support.api import session_body, wait_status
from tests.support.server import Server

# Digits to str.isdigit() that are not ASCII, and other characters parsers trip on.
NON_ASCII_DIGITS = "\u00b2\u00b9\u0663\u06f5\u0967\uff11\U0001d7ce\u2460"
ODD = "\x00\u200b\u202e\ufeff\ud7ff\ue000\U0010ffff\u0301é"

huge_integers = st.one_of(st.integers(min_value=10**308, max_value=10**400),
                          st.integers(max_value=-(10**308), min_value=-(10**400)),
                          st.integers())
odd_text = st.one_of(st.text(alphabet=NON_ASCII_DIGITS, min_size=1, max_size=8),
                     st.text(alphabet=NON_ASCII_DIGITS + ODD + "0123456789-.e", max_size=12),
                     st.text(max_size=20))
json_values = st.one_of(huge_integers, odd_text, st.floats(), st.booleans(), st.none(),
                        st.lists(st.integers(), max_size=2))
wire_values = st.one_of(huge_integers.map(str), odd_text)


@dataclass(frozen=True)
class Target:
    """One input of one operation to spoil: a body field, query parameter or header."""

    operation: Operation
    where: str  # body | query | header | config
    name: str


def targets(server: Server) -> list[Target]:
    found: list[Target] = []
    for operation in app_operations(server.app):
        if operation.public:
            continue
        found += [Target(operation, "query", name) for name in operation.query]
        found += [Target(operation, "header", name) for name in operation.headers]
        if operation.body is not None:
            found += [Target(operation, "body", name) for name in operation.body.fields]
    # every config key of every profile (floats among them: the 1e309 case)
    found += [Target(api.CREATE_SESSION, "config", name)
              for name in api._config_schema()["properties"]]
    return found


def base_request(operation: Operation, session_id: str) -> tuple[str, dict[str, Any] | None]:
    path = operation.path.replace("{session_id}", session_id)
    if operation is api.CREATE_SESSION:
        return path, session_body(speed="max")
    if operation is api.CONTROL_SESSION:
        return path, {"action": "speed", "speed": 5}
    if operation.body is not None:
        return path, {}
    return path, None


def send(client: httpx.Client, target: Target, value: Any, session_id: str) -> int:
    path, body = base_request(target.operation, session_id)
    params: dict[str, str] = {}
    headers: dict[str, bytes] = {}
    if target.where == "body":
        assert body is not None
        body[target.name] = value
    elif target.where == "config":
        assert body is not None
        body["config"] = {target.name: value}
    elif target.where == "query":
        params[target.name] = value
    else:
        headers[target.name] = value.encode("utf-8")
    if target.operation is api.STREAM:
        params.setdefault("fromSeq", "1")  # the finished session: the stream ends
    content = None if body is None else json.dumps(body).encode()
    try:
        with client.stream(target.operation.method.upper(), path, params=params,
                           headers={**headers, "Content-Type": "application/json"},
                           content=content) as response:
            response.read()
            return response.status_code
    except httpx.LocalProtocolError:
        return 0  # the client refuses to send it (a NUL in a header): nothing reached us
    except httpx.TimeoutException as error:
        raise AssertionError(f"no answer: {target.where} {target.operation.path} "
                             f"{target.name}") from error


def _spoil(client: httpx.Client, target: Target, values: st.SearchStrategy[Any],
           session_id: str, examples: int, statuses: Counter[int]) -> None:
    @hypothesis.settings(max_examples=examples, deadline=None, database=None,
                         derandomize=True, suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(value=values)
    def one(value: Any) -> None:
        status = send(client, target, value, session_id)
        statuses[status] += 1
        assert status < 500, (target.where, target.operation.path, target.name, value)

    one()


def hunt(server: Server, session_id: str, examples: int) -> Counter[int]:
    statuses: Counter[int] = Counter()
    with httpx.Client(base_url=server.url, headers={"X-Dev-User": "hostile"},
                      timeout=60) as client:  # generous: the suite may share 2 cores
        for target in targets(server):
            values = wire_values if target.where in ("query", "header") else json_values
            _spoil(client, target, values, session_id, examples, statuses)
    return statuses


async def test_no_input_of_any_size_or_script_is_a_server_error(server: Server) -> None:
    async with server.client("hostile") as client:
        session_id = (await client.post("/api/sim/sessions", json=session_body())).json()["id"]
        # finished, so a stream request that passes its checks ends instead of waiting
        await wait_status(client, session_id, "finished")
    statuses = await trio.to_thread.run_sync(hunt, server, session_id, 15)
    assert statuses[400] > 100  # it really spoiled inputs
    assert all(status < 500 for status in statuses)


@pytest.mark.parametrize(("header", "value"), [
    ("Last-Event-ID", "\u00b2"), ("Last-Event-ID", "\uff11\uff12"), ("Last-Event-ID", "1_0"),
    ("Last-Event-ID", "9" * 40), ("Last-Event-ID", "-1"), ("Idempotency-Key", "ключ"),
])
async def test_bad_header_is_400_naming_it(client: httpx.AsyncClient, header: str,
                                           value: str) -> None:
    session_id = (await client.post("/api/sim/sessions", json=session_body())).json()["id"]
    if header == "Last-Event-ID":
        response = await client.get(f"/api/sim/sessions/{session_id}/stream",
                                    headers={header: value.encode()})
    else:
        response = await client.post("/api/sim/sessions", json=session_body(),
                                     headers={header: value.encode()})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"][0]["field"] == header


@pytest.mark.parametrize("body", [
    session_body(speed=10**309), session_body(speed=-(10**400)),
    session_body(config={"commission": 10**309}), session_body(config={"sizeFraction": 10**400}),
    session_body(config={"fast": 10**400}), session_body(startMs=10**400),
])
async def test_huge_json_integers_are_400(client: httpx.AsyncClient, body: dict[str, Any]
                                          ) -> None:
    response = await client.post("/api/sim/sessions", content=json.dumps(body),
                                 headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text


async def test_huge_speed_in_control_is_400(client: httpx.AsyncClient) -> None:
    session_id = (await client.post("/api/sim/sessions", json=session_body(speed=1))).json()["id"]
    response = await client.post(f"/api/sim/sessions/{session_id}/control",
                                 content=json.dumps({"action": "speed", "speed": 10**309}),
                                 headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "speed"
    await client.post(f"/api/sim/sessions/{session_id}/control", json={"action": "stop"})


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("DELETE", "/api/sim/sessions", {"GET", "POST"}),
    ("PUT", "/api/markets", {"GET"}),
    ("GET", "/api/candles/import", {"POST"}),
])
async def test_method_not_allowed_answers_allow(client: httpx.AsyncClient, method: str,
                                                path: str, allowed: set[str]) -> None:
    response = await client.request(method, path)
    assert response.status_code == 405
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}
    assert response.json()["error"]["code"] == "method_not_allowed"
