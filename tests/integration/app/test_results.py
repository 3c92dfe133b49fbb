"""Results over HTTP: trades, equity, the NDJSON log and final stats agree with the log."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
import pytest

from livesim.app.results import EQUITY_COLUMNS, TRADE_COLUMNS
from tests.support.api import all_events, session_body, wait_status
from tests.support.server import Server


async def finished_session(client: httpx.AsyncClient, **overrides: Any) -> str:
    body = session_body(config={"fast": 3, "slow": 8, "commission": 0.001}, **overrides)
    session = (await client.post("/api/sim/sessions", json=body)).json()
    await wait_status(client, session["id"], "finished")
    return str(session["id"])


def parse_csv(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), list(reader)


def typed(value: str, like: Any) -> Any:
    """A CSV cell read back as the JSON value's type (round-trip check)."""
    if isinstance(like, bool) or isinstance(like, str):
        return value
    return int(value) if isinstance(like, int) else float(value)


async def test_trades_are_the_logs_trade_closed_events_in_json_and_csv(
        client: httpx.AsyncClient) -> None:
    session_id = await finished_session(client)
    log = await all_events(client, session_id)
    closed = [{"seq": e["seq"], **e["payload"]} for e in log if e["type"] == "trade_closed"]
    assert len(closed) >= 2  # the fixture's series makes sma-cross trade

    answer = await client.get(f"/api/sim/sessions/{session_id}/trades")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json() == {"trades": closed}

    as_csv = await client.get(f"/api/sim/sessions/{session_id}/trades?format=csv")
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    header, rows = parse_csv(as_csv.text)
    assert tuple(header) == TRADE_COLUMNS
    # Every cell reads back as exactly the JSON value (floats in shortest round-trip form).
    assert [{k: typed(v, trade[k]) for k, v in row.items()}
            for row, trade in zip(rows, closed, strict=True)] == closed

    by_accept = await client.get(f"/api/sim/sessions/{session_id}/trades",
                                 headers={"Accept": "text/csv"})
    assert by_accept.text == as_csv.text
    # The query wins over Accept.
    json_anyway = await client.get(f"/api/sim/sessions/{session_id}/trades?format=json",
                                   headers={"Accept": "text/csv"})
    assert json_anyway.json() == {"trades": closed}


async def test_equity_whole_every_nth_and_tail(client: httpx.AsyncClient) -> None:
    session_id = await finished_session(client)
    log = await all_events(client, session_id)
    snapshots = [{"seq": e["seq"], "ts": e["ts"], **e["payload"]}
                 for e in log if e["type"] == "equity"]
    assert len(snapshots) == 60

    base = f"/api/sim/sessions/{session_id}/equity"
    assert (await client.get(base)).json() == {"every": 1, "equity": snapshots}
    every_7 = (await client.get(base, params={"every": 7})).json()
    # 0, 7, ..., 56 and the last one (59), so the curve ends where the session does
    assert every_7["equity"] == snapshots[::7] + [snapshots[-1]]
    every_20 = (await client.get(base, params={"every": 20})).json()["equity"]
    assert every_20 == [snapshots[0], snapshots[20], snapshots[40], snapshots[59]]
    assert (await client.get(base, params={"every": 1000})).json()["equity"] == [
        snapshots[0], snapshots[-1]]
    assert (await client.get(base, params={"tail": 3})).json() == {
        "tail": 3, "equity": snapshots[-3:]}

    as_csv = await client.get(base, params={"format": "csv", "every": 7})
    header, rows = parse_csv(as_csv.text)
    assert tuple(header) == EQUITY_COLUMNS
    assert [{k: typed(v, point[k]) for k, v in row.items()}
            for row, point in zip(rows, every_7["equity"], strict=True)] == every_7["equity"]


async def test_ndjson_log_is_every_event_as_the_stream_sends_it(
        client: httpx.AsyncClient) -> None:
    session_id = await finished_session(client)
    log = await all_events(client, session_id)
    answer = await client.get(f"/api/sim/sessions/{session_id}/log.ndjson")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    lines = answer.text.splitlines()
    assert [json.loads(line) for line in lines] == log
    # canonical bytes: sorted keys, no spaces, the same as the SSE data field
    assert lines[0] == json.dumps(log[0], sort_keys=True, separators=(",", ":"))


async def test_stats_appear_on_the_session_once_finished(client: httpx.AsyncClient) -> None:
    running = (await client.post("/api/sim/sessions", json=session_body(speed=1))).json()
    view = (await client.get(f"/api/sim/sessions/{running['id']}")).json()
    assert view["status"] in ("created", "running")
    assert view["stats"] is None
    await client.post(f"/api/sim/sessions/{running['id']}/control", json={"action": "stop"})

    session_id = await finished_session(client)
    log = await all_events(client, session_id)
    assert log[-1]["type"] == "session_finished"
    view = (await client.get(f"/api/sim/sessions/{session_id}")).json()
    assert view["stats"] == log[-1]["payload"]["stats"]
    assert view["stats"]["trades"] == sum(e["type"] == "trade_closed" for e in log)


@pytest.mark.parametrize(("path", "params", "field"), [
    ("trades", {"format": "xml"}, "format"),
    ("equity", {"every": "0"}, "every"),
    ("equity", {"every": "2", "tail": "2"}, "tail"),
    ("equity", {"tail": "x"}, "tail"),
    ("equity", {"fromSeq": "1"}, "fromSeq"),
    ("log.ndjson", {"format": "csv"}, "format"),
])
async def test_bad_queries_are_400_with_the_field(
        client: httpx.AsyncClient, path: str, params: dict[str, str], field: str) -> None:
    session_id = await finished_session(client)
    answer = await client.get(f"/api/sim/sessions/{session_id}/{path}", params=params)
    assert answer.status_code == 400
    assert field in [d["field"] for d in answer.json()["error"]["details"]]


@pytest.mark.parametrize("path", ["trades", "equity", "log.ndjson"])
async def test_another_users_results_are_404(server: Server, client: httpx.AsyncClient,
                                             path: str) -> None:
    session_id = await finished_session(client)
    async with server.client("mallory") as other:
        answer = await other.get(f"/api/sim/sessions/{session_id}/{path}")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "session_not_found"
