"""Every built-in profile runs end to end in a real session against PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.api import all_events, session_body, wait_status

PROFILES: dict[str, dict[str, Any]] = {
    "sma-cross": {"fast": 3, "slow": 8, "allowShort": True, "commission": 0.001},
    "rsi-reversion": {"period": 5, "oversold": 40, "overbought": 60, "stopLossPct": 1},
    "donchian-breakout": {"entryPeriod": 5, "exitPeriod": 3, "takeProfitPct": 1},
    "buy-and-hold": {"closeAtEnd": True, "commission": 0.001},
}
EVENT_TYPES = {"session_started", "candle", "order_submitted", "order_filled", "order_rejected",
               "trade_opened", "trade_closed", "equity", "session_finished"}


async def test_profiles_route_lists_each_profile_with_its_keys(
        client: httpx.AsyncClient) -> None:
    profiles = (await client.get("/api/profiles")).json()["profiles"]
    # manual trades only through outside orders, so it has no end-to-end run here.
    assert {p["slug"] for p in profiles} == set(PROFILES) | {"manual"}
    sma = next(p for p in profiles if p["slug"] == "sma-cross")
    assert sma["defaultConfig"]["fast"] == 10


@pytest.mark.parametrize(("slug", "config"), PROFILES.items())
async def test_profile_runs_end_to_end_with_trades(client: httpx.AsyncClient, slug: str,
                                                   config: dict[str, Any]) -> None:
    response = await client.post("/api/sim/sessions", json=session_body(
        profileSlug=slug, config=config, endMs=session_body()["startMs"] + 120 * 60_000))
    assert response.status_code == 201, response.text
    session_id = response.json()["id"]
    assert response.json()["config"] == config
    await wait_status(client, session_id, "finished")
    events = await all_events(client, session_id)
    types = [e["type"] for e in events]
    assert set(types) <= EVENT_TYPES
    assert "trade_opened" in types
    assert "order_filled" in types
    started = events[0]["payload"]
    assert started["profileSlug"] == slug
    assert {k: started["config"][k] for k in config} == config
    stats = events[-1]["payload"]["stats"]
    equities = [e["payload"]["equity"] for e in events if e["type"] == "equity"]
    assert stats["finalEquity"] == pytest.approx(equities[-1])
    assert types.count("candle") == types.count("equity") == 120
