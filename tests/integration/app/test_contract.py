"""The contract test: what the document promises is what the server checks, both ways.

1. For every input of every operation, the rule's own check and a JSON Schema validator
   run on the rule's documented schema accept exactly the same values (property test
   with boundaries).  So a constraint cannot be documented without being enforced, nor
   enforced without being documented, inside one rule.
2. A generated table of every documented constraint (operation, input, keyword, value)
   is probed against the running server: the boundary value is accepted and the value
   just past it is a 400 naming that input.
3. Only keywords the declaration layer enforces may appear in the document.

The schemathesis run in ``test_fuzz.py`` adds the whole-request view (positive and
negative phases).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import hypothesis
import jsonschema_rs
import pytest
from hypothesis import strategies as st

from livesim.app import api, create_app
from livesim.app.contract import Checked, Rule, constraints
from livesim.app.openapi import app_operations, build_document
from livesim.app.operation import Operation
from tests.support.api import session_body
from tests.support.server import TEST_SETTINGS

APP = create_app(TEST_SETTINGS, "postgresql://unused")
OPERATIONS = app_operations(APP)
# Keywords the declaration layer writes and enforces; anything else in an input's schema
# would be a promise nothing keeps.
ENFORCED = {"type", "minimum", "maximum", "minLength", "maxLength", "pattern", "enum",
            "required", "additionalProperties", "maxProperties", "format", "exclusiveMinimum",
            "exclusiveMaximum"}


@dataclass(frozen=True)
class Input:
    operation: Operation
    where: str  # query | header | body
    name: str
    rule: Rule


def inputs() -> Iterator[Input]:
    for operation in OPERATIONS:
        for name, param in operation.query.items():
            yield Input(operation, "query", name, param.rule)
        for name, param in operation.headers.items():
            yield Input(operation, "header", name, param.rule)
        if operation.body is not None:
            for name, field in operation.body.fields.items():
                yield Input(operation, "body", name, field.rule)


INPUTS = [item for item in inputs() if not isinstance(item.rule, Checked)]


def _id(item: Input) -> str:
    return f"{item.operation.method} {item.operation.path} {item.where}:{item.name}"


def boundaries(schema: dict[str, Any]) -> list[Any]:
    found: list[Any] = []
    for key in ("minimum", "maximum"):
        for part in [schema, *schema.get("anyOf", [])]:
            if key in part:
                edge = part[key]
                found += [edge, edge - 1, edge + 1]
                if abs(edge) < 2**52:  # beyond, a float cannot hold edge +- 0.5
                    found += [edge - 0.5, edge + 0.5]
    for key in ("minLength", "maxLength"):
        if key in schema:
            found += ["a" * max(0, schema[key] + delta) for delta in (-1, 0, 1)]
    for value in schema.get("enum", []):
        found += [value, value.upper(), value + " "]
    return found


plain_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3), max_leaves=6)


@pytest.mark.parametrize("item", INPUTS, ids=_id)
def test_rule_check_and_documented_schema_accept_the_same_values(item: Input) -> None:
    schema = item.rule.schema(TEST_SETTINGS)
    validator = jsonschema_rs.validator_for(schema)

    def agree(value: Any) -> None:
        documented = validator.is_valid(value)
        enforced = item.rule.check(value, TEST_SETTINGS) is None
        assert documented == enforced, (value, schema)

    for value in boundaries(schema):
        agree(value)

    @hypothesis.settings(max_examples=150, deadline=None, database=None, derandomize=True)
    @hypothesis.given(value=plain_json)
    def random_values(value: Any) -> None:
        agree(value)

    random_values()


def test_documented_input_keywords_are_all_enforced() -> None:
    document = build_document(APP, TEST_SETTINGS)
    schemas = document["components"]["schemas"]
    table = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                table.update({f"{method} {path} {parameter['name']}.{key}": value
                              for key, value in constraints(parameter["schema"]).items()})
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                name = body["schema"]["$ref"].rsplit("/", 1)[-1]
                table.update({f"{method} {path} body.{key}": value
                              for key, value in constraints(schemas[name]).items()})
    keywords = {key.rsplit(".", 1)[-1] for key in table}
    assert keywords <= ENFORCED, keywords - ENFORCED
    assert len(table) > 60  # the table really covers the API


# ---- the constraint table, probed against the server -------------------------------


@dataclass(frozen=True)
class Probe:
    """One row of the table: an input, a keyword, a value inside and one just outside."""

    operation: Operation
    where: str
    name: str
    keyword: str
    inside: Any
    outside: Any


def probes() -> list[Probe]:
    rows = []
    for item in INPUTS:
        if item.operation in (api.STREAM, api.IMPORT_CANDLES):
            continue  # probed through their query in the targeted tests and the fuzz run
        schema = item.rule.schema(TEST_SETTINGS)
        wire = item.where != "body"
        for part in [schema, *schema.get("anyOf", [])]:
            for keyword, step in (("minimum", -1), ("maximum", 1)):
                if keyword in part:
                    edge = part[keyword]
                    rows.append(Probe(item.operation, item.where, item.name, keyword,
                                      str(edge) if wire else edge,
                                      str(edge + step) if wire else edge + step))
        if "maxLength" in schema and "pattern" not in schema:
            rows.append(Probe(item.operation, item.where, item.name, "maxLength",
                              "a" * schema["maxLength"], "a" * (schema["maxLength"] + 1)))
        if "enum" in schema:
            rows.append(Probe(item.operation, item.where, item.name, "enum",
                              schema["enum"][-1], "not-" + schema["enum"][-1]))
    return rows


def _request(probe: Probe, value: Any, session_id: str) -> dict[str, Any]:
    operation = probe.operation
    path = operation.path.replace("{session_id}", session_id)
    body: dict[str, Any] | None = None
    if operation is api.CREATE_SESSION:
        body = session_body()
    elif operation is api.CONTROL_SESSION:
        body = {"action": "speed", "speed": 5}
    elif operation.body is not None:
        body = {}
    params: dict[str, str] = {}
    if operation in (api.CANDLES,):
        params = {"symbol": "TEST", "timeframe": "1m"}
    headers: dict[str, str] = {}
    if probe.where == "body":
        assert body is not None
        body[probe.name] = value
        if probe.name == "action":
            body.pop("speed", None)
    elif probe.where == "query":
        params[probe.name] = value
    else:
        headers[probe.name] = value
    request: dict[str, Any] = {"method": operation.method.upper(), "url": path,
                               "params": params, "headers": headers}
    if body is not None:
        request["content"] = json.dumps(body)
        request["headers"] = {**headers, "Content-Type": "application/json"}
    return request


def _named(response: httpx.Response, name: str) -> bool:
    if response.status_code != 400:
        return False
    return any(detail["field"] == name for detail in response.json()["error"]["details"])


async def test_constraint_table_every_documented_bound_is_enforced(
        client: httpx.AsyncClient) -> None:
    session_id = (await client.post("/api/sim/sessions", json=session_body())).json()["id"]
    table = probes()
    assert len(table) > 20
    failures = []
    for probe in table:
        inside = await client.request(**_request(probe, probe.inside, session_id))
        outside = await client.request(**_request(probe, probe.outside, session_id))
        row = (f"{probe.operation.method} {probe.operation.path} {probe.where}:{probe.name} "
               f"{probe.keyword} inside={probe.inside!r} outside={probe.outside!r}")
        # a boundary may still meet a rule across fields (endMs at year 1 is before startMs)
        if _named(inside, probe.name) and inside.json()["error"]["code"] not in \
                api.CROSS_FIELD_CODES:
            failures.append(f"{row}: the boundary was refused: {inside.text[:200]}")
        if not _named(outside, probe.name):
            failures.append(f"{row}: past the boundary got {outside.status_code}")
    assert failures == []
