"""The OpenAPI document against the routes, the body limit, and a schemathesis fuzz run.

The fuzz run serves the app in OIDC mode against the test issuer and sends every
operation of ``/openapi.json`` generated requests (valid and invalid by the schema)
with a valid token, on random session ids and on real ones.  No answer may be a 5xx,
and afterwards every ``sim_sessions`` row must agree with its events.

It is also the contract's two-way check:

- negative phase (requests the document forbids): never a 2xx, so every constraint the
  document states is enforced;
- positive phase (requests the document allows): never a 400 for a reason the document
  does not state (only the cross-field codes it lists, or a field whose rule a domain
  function decides, such as an ISO time), so every enforced constraint is documented; and
  each answer's status, media type and body match the document.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import hypothesis
import pytest
import requests
import schemathesis
import trio
from hypothesis import strategies as st
from schemathesis import GenerationMode

from livesim.app import api, create_app
from livesim.app.contract import Checked
from livesim.app.openapi import app_operations, build_document
from livesim.config import Settings
from livesim.db.bridge import Database
from tests.support.api import eventually, session_body
from tests.support.issuer import AUDIENCE, Issuer, open_issuer, rsa_key
from tests.support.server import TEST_SETTINGS, Server

# Examples per operation and generation mode; raise it locally for a longer hunt.
EXAMPLES = int(os.environ.get("LIVESIM_FUZZ_EXAMPLES", "25"))
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}

schemathesis.openapi.media_type(
    "text/csv", st.sampled_from([b"", b"a,b\n", b"1704067200000,1,2,0.5,1.5,10\n"])
    | st.binary(max_size=200))


def _openapi_path(rule: str) -> str:
    # <session:session_id> -> {session_id}
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def test_openapi_every_route_is_documented_and_nothing_else() -> None:
    app = create_app(TEST_SETTINGS, "postgresql://unused")
    routes = {(_openapi_path(rule.rule), method.lower())
              for rule in app.url_map.iter_rules()
              if not rule.rule.startswith("/static/")  # Quart's default, serves nothing
              for method in (rule.methods or set()) & METHODS}
    paths = build_document(app, TEST_SETTINGS)["paths"]
    documented = {(path, method) for path, item in paths.items() for method in item}
    assert routes - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routes == set(), "documented operations with no route"


async def test_openapi_json_and_docs_page_are_served(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    page = await client.get("/docs", headers={"X-Dev-User": ""})
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    for path in document["paths"]:
        assert path.replace("{", "").replace("}", "") in page.text.replace("{", "").replace(
            "}", "")


class TestBodyLimit:
    @pytest.fixture
    def settings(self) -> Settings:
        return TEST_SETTINGS.with_changes(max_body_bytes=4096)

    async def test_body_over_limit_is_413(self, client: httpx.AsyncClient) -> None:
        body = session_body(config={"fast": 3, "slow": 8, "pad": "x" * 5000})
        response = await client.post("/api/sim/sessions", json=body)
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "request_entity_too_large"
        assert (await client.get("/api/sim/sessions")).json()["sessions"] == []

    async def test_chunked_body_over_limit_is_413(self, client: httpx.AsyncClient) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"profileSlug": "sma-cross", "pad": "'
            for _ in range(10):
                yield b"x" * 1000
            yield b'"}'

        response = await client.post("/api/sim/sessions", content=chunks(),
                                     headers={"Content-Type": "application/json"})
        assert response.status_code == 413


HOSTILE_BODIES = [
    b'{"config": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # blows a recursive parser
    b'{"speed": NaN}',
    b'{"speed": Infinity}',
    b'{"action": "stop", "action": "pause"}',  # which one did the client mean?
    b"\xff\xfe{}",
    b"[]",
    b"",
]


class TestHostileBodies:
    @pytest.fixture
    def settings(self) -> Settings:
        return TEST_SETTINGS

    @pytest.mark.parametrize("raw", HOSTILE_BODIES)
    async def test_hostile_json_body_is_400_invalid_json(self, client: httpx.AsyncClient,
                                                         raw: bytes) -> None:
        created = await client.post("/api/sim/sessions", json=session_body())
        session_id = created.json()["id"]
        for path in ("/api/sim/sessions", f"/api/sim/sessions/{session_id}/control",
                     f"/api/sim/sessions/{session_id}/stream-ticket"):
            response = await client.post(path, content=raw,
                                         headers={"Content-Type": "application/json"})
            if path.endswith("stream-ticket") and raw == b"":
                assert response.status_code == 200  # no body is the normal request there
                continue
            assert response.status_code == 400, (path, response.text)
            assert response.json()["error"]["code"] == "invalid_json", path


# ---- the fuzz run -------------------------------------------------------------------


@pytest.fixture
async def issuer(nursery: trio.Nursery) -> Issuer:
    served = await open_issuer(nursery)
    served.publish(rsa_key("rsa-1"))
    return served


@pytest.fixture
def settings(issuer: Issuer) -> Settings:
    return TEST_SETTINGS.with_changes(auth_mode="oidc", oidc_issuer=issuer.url,
                                      oidc_audience=AUDIENCE)


@dataclass
class Tally:
    """What the fuzz run sent and got back."""

    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    by_mode: Counter[str] = field(default_factory=Counter)


def _domain_checked_fields() -> set[str]:
    """Fields whose rule a domain function decides beyond what JSON Schema can say."""
    app = create_app(TEST_SETTINGS, "postgresql://unused")
    return {name for operation in app_operations(app) if operation.body is not None
            for name, spec in operation.body.fields.items() if isinstance(spec.rule, Checked)}


DOMAIN_CHECKED = _domain_checked_fields()


def contract_failure(mode: GenerationMode, response: requests.Response) -> str | None:
    """A positive-phase 400 for a reason the document does not state, if this is one."""
    if mode is GenerationMode.POSITIVE and response.status_code == 400:
        error = response.json()["error"]
        fields = {detail["field"] for detail in error["details"]}
        if error["code"] in api.CROSS_FIELD_CODES or fields <= DOMAIN_CHECKED:
            return None
        return f"refused a request the document allows: {error}"
    return None


# What each phase's answers must satisfy besides "no 5xx".  negative_data_rejection is
# schemathesis' own: it re-checks that the request *as sent* breaks the schema (a
# mutation the client library drops, such as an empty-named query parameter, does not
# count) and then wants a 4xx.
PHASE_CHECKS = {
    GenerationMode.POSITIVE: [schemathesis.checks.status_code_conformance,
                              schemathesis.checks.content_type_conformance,
                              schemathesis.checks.response_schema_conformance],
    GenerationMode.NEGATIVE: [schemathesis.checks.negative_data_rejection],
}


def fuzz(document: dict[str, Any], base_url: str, token: str,
         real_ids: dict[str, str]) -> Tally:
    """Run schemathesis over every operation (in a worker thread: it is synchronous)."""
    schema = schemathesis.openapi.from_dict(document)
    headers = {"Authorization": f"Bearer {token}"}
    tally = Tally()
    for result in schema.get_all_operations():
        operation = result.ok()
        variants: list[dict[str, str] | None] = [None]
        if "{session_id}" in operation.path:
            # The stream of a running session never ends: stream the finished one.
            key = "finished" if operation.path.endswith("/stream") else "running"
            variants.append({"session_id": real_ids[key]})
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for path_parameters in variants:
                strategy = operation.as_strategy(generation_mode=mode, headers=headers,
                                                 path_parameters=path_parameters)
                _run(strategy, base_url, tally, mode)
    return tally


def _run(strategy: Any, base_url: str, tally: Tally, mode: GenerationMode) -> None:

    @hypothesis.settings(max_examples=EXAMPLES, deadline=None, database=None,
                         derandomize=True, suppress_health_check=list(hypothesis.HealthCheck),
                         phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate])
    @hypothesis.given(case=strategy)
    def one(case: Any) -> None:
        try:
            response = case.call(base_url=base_url, timeout=15)
        except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL,
                UnicodeError):
            return  # the client library refuses to send it; nothing reached the server
        except requests.RequestException as error:
            tally.failures.append(f"{case.method} {case.formatted_path}: {error!r}")
            return
        tally.statuses[response.status_code] += 1
        tally.by_mode[f"{mode.value} {response.status_code // 100}xx"] += 1
        if response.status_code >= 500:
            tally.failures.append(f"{case.method} {case.formatted_path} -> "
                            f"{response.status_code}: {response.text[:300]}")
            return
        broken = contract_failure(mode, response)
        if broken is not None:
            tally.failures.append(f"{mode.value} {case.method} {case.formatted_path}: "
                                  f"{broken} <- {case.query} {case.body!r}")
            return
        if True:
            try:
                case.validate_response(response, checks=PHASE_CHECKS[mode])
            except BaseExceptionGroup as error:  # schemathesis' group of its Failures
                tally.failures.append(f"{mode.value} {case.method} {case.formatted_path}: "
                                      f"{'; '.join(str(e) for e in error.exceptions)[:400]} "
                                      f"<- {case.query} {case.body!r}")

    try:
        one()
    except hypothesis.errors.Unsatisfiable:
        pass  # negative mode on an operation with nothing to get wrong (no input)


CONSISTENCY = """
SELECT s.id, s.status, s.error IS NOT NULL AS has_error, count(e.seq) AS n,
       coalesce(min(e.seq), 0) AS lo, coalesce(max(e.seq), 0) AS hi,
       (SELECT type FROM sim_events WHERE session_id = s.id ORDER BY seq LIMIT 1) AS first,
       (SELECT type FROM sim_events WHERE session_id = s.id ORDER BY seq DESC LIMIT 1) AS last
FROM sim_sessions s LEFT JOIN sim_events e ON e.session_id = s.id
GROUP BY s.id
"""
TERMINAL_EVENT = {"finished": "session_finished", "stopped": "session_stopped",
                  "failed": "session_failed"}


async def inconsistent_sessions(db: Database) -> list[str]:
    problems = []
    for row in await db.fetch_sql(CONSISTENCY):
        where = f"session {row['id']} ({row['status']}, {row['n']} events)"
        if row["n"] and (row["lo"], row["hi"]) != (1, row["n"]):
            problems.append(f"{where}: seq not 1..n")
        if row["n"] and row["first"] != "session_started":
            problems.append(f"{where}: starts with {row['first']}")
        if row["status"] not in TERMINAL_EVENT:
            problems.append(f"{where}: not settled")
        elif row["n"] and row["last"] != TERMINAL_EVENT[row["status"]]:
            problems.append(f"{where}: ends with {row['last']}")
        if (row["status"] == "failed") != row["has_error"]:
            problems.append(f"{where}: error column does not match status")
    orphans = await db.fetch_sql(
        "SELECT count(*) AS n FROM sim_events e LEFT JOIN sim_sessions s "
        "ON s.id = e.session_id WHERE s.id IS NULL")
    if orphans[0]["n"]:
        problems.append(f"{orphans[0]['n']} events without a session")
    return problems


async def test_fuzz_openapi_with_valid_token_finds_no_server_error(
        server: Server, issuer: Issuer) -> None:
    token = issuer.token(rsa_key("rsa-1"), "RS256", sub="fuzzer",
                         exp=int(time.time()) + 3600)
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=auth, timeout=30) as api:
        finished = (await api.post("/api/sim/sessions", json=session_body())).json()["id"]
        running = (await api.post("/api/sim/sessions",
                                  json=session_body(speed=1))).json()["id"]
        document = (await api.get("/openapi.json")).json()
        tally = await trio.to_thread.run_sync(
            fuzz, document, server.url, token, {"finished": finished, "running": running})
        print(dict(tally.by_mode))
        for failure in tally.failures:
            print("FAILURE", failure[:700])
        assert tally.failures == []
        # It really ran: many requests, and both accepted and refused ones.
        assert sum(tally.statuses.values()) > 10 * len(document["paths"])
        assert tally.statuses[200] > 0
        assert tally.statuses[400] > 0

        # Settle: stop whatever still runs, then wait for every terminal event.
        for row in await server.db.fetch_sql(
                "SELECT id FROM sim_sessions WHERE status IN ('created', 'running', 'paused')"):
            await api.post(f"/api/sim/sessions/{row['id']}/control", json={"action": "stop"})

        async def settled() -> bool:
            return not await inconsistent_sessions(server.db)

        try:
            await eventually(settled, within_s=15)
        except trio.TooSlowError:
            pass  # the assertion below names what did not settle
    assert await inconsistent_sessions(server.db) == []
