"""Properties of sessions traded from outside, alone (manual) or beside a strategy.

Random candle series, random configs and random inputs at random candles:

* the account invariants of test_sim_properties hold (equity == cash + position ×
  close; equity ≈ initialCash + realized + unrealized; realized == sum of closed pnl;
  long-only never goes short, nor below zero cash);
* every order ends exactly once (filled, rejected, cancelled or expired) or is still
  in the book at the end; nothing fills after ``account_liquidated``;
* determinism: the same inputs at the same candles give the same canonical log, and
  inputs replayed from their recorded wire form (as after a restart) do too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livesim.sim.candles import Candle
from livesim.sim.engine import SessionEngine, build_engine
from livesim.sim.events import EquitySnapshot, Event, canonical_json, log_digest
from livesim.sim.inputs import CancelOrder, ClosePosition, Input, SubmitOrder, parse_input
from tests.support.sim import PROFILE_KEYS, candle_series, configs

Inputs = dict[int, list[Input]]
_ENDS = {"order_filled", "order_rejected", "order_cancelled", "order_expired"}


@st.composite
def submit_orders(draw: st.DrawFn, cid: str) -> SubmitOrder:
    side = draw(st.sampled_from(["buy", "sell"]))
    kind = draw(st.sampled_from(["market", "limit", "stop"]))
    # Levels as a fraction of 100 so they land inside and outside the candles' ranges.
    level = draw(st.floats(0.5, 2.0)) * 100.0
    sized = draw(st.booleans())
    return SubmitOrder(
        cid, side, kind, qty=None if sized else draw(st.sampled_from([1, 2, 5, 0.5])),
        size_fraction=draw(st.floats(0.05, 1.0)) if sized else None,
        limit_price=level if kind == "limit" else None,
        stop_price=level if kind == "stop" else None,
        expires_after_candles=draw(st.none() | st.integers(1, 5)) if kind != "market" else None)


@st.composite
def input_plans(draw: st.DrawFn, length: int) -> Inputs:
    plan: Inputs = {}
    count = draw(st.integers(0, 12))
    for n in range(count):
        index = draw(st.integers(0, max(0, length - 1)))
        choice = draw(st.integers(0, 9))
        item: Input
        if choice < 7:
            item = draw(submit_orders(f"o{n}"))
        elif choice < 9:
            item = CancelOrder(client_order_id=f"o{draw(st.integers(0, max(0, count - 1)))}")
        else:
            item = ClosePosition()
        plan.setdefault(index, []).append(item)
    return plan


@st.composite
def sessions(draw: st.DrawFn) -> tuple[list[Candle], str, dict[str, Any], Inputs]:
    candles = draw(candle_series())
    base, config = draw(configs())
    slug = draw(st.sampled_from([base, "manual"]))
    if slug == "manual":
        config = {k: v for k, v in config.items() if k not in PROFILE_KEYS[base]}
    # Prices near 100 so the drawn levels matter.
    scale = 100.0 / candles[0].open
    candles = [Candle(c.ts, c.open * scale, c.high * scale, c.low * scale, c.close * scale,
                      c.volume) for c in candles]
    return candles, slug, config, draw(input_plans(len(candles)))


def run(candles: Sequence[Candle], slug: str, config: dict[str, Any],
        plan: Mapping[int, Sequence[Input]]) -> tuple[SessionEngine, list[list[Event]]]:
    engine = build_engine(slug, config, timeframe="5m", candle_count=len(candles))
    return engine, [engine.step(c, plan.get(i, ())) for i, c in enumerate(candles)]


@settings(max_examples=200, deadline=None)
@given(sessions())
def test_inputs_random_session_keeps_account_invariants(
        session: tuple[list[Candle], str, dict[str, Any], Inputs]) -> None:
    candles, slug, config, plan = session
    engine, steps = run(candles, slug, config, plan)
    closed_pnl = 0.0
    submitted: list[int] = []
    ended: list[int] = []
    liquidated = False
    for candle, events in zip(candles, steps, strict=True):
        for event in events:
            payload = event.payload()
            canonical_json(payload)
            if event.type == "trade_closed":
                closed_pnl += payload["pnl"]
            elif event.type == "order_submitted":
                submitted.append(payload["orderId"])
            elif event.type in _ENDS:
                ended.append(payload["orderId"])
            elif event.type == "account_liquidated":
                assert not liquidated
                liquidated = True
            if liquidated:
                assert event.type not in ("order_filled", "trade_opened")
        snap = events[-1]
        assert isinstance(snap, EquitySnapshot)
        assert snap.equity == snap.cash + snap.position_qty * candle.close
        assert snap.equity == pytest.approx(
            config["initialCash"] + snap.realized_pnl + snap.unrealized_pnl,
            rel=1e-9, abs=1e-9 * config["initialCash"])
        assert snap.realized_pnl == pytest.approx(closed_pnl, rel=1e-12, abs=1e-9)
        if not config["allowShort"]:
            assert snap.position_qty >= 0
            assert snap.cash >= -1e-9 * config["initialCash"]
    still_open = [o["orderId"] for o in engine.open_orders()]
    assert sorted(ended + still_open) == sorted(submitted)
    assert len(set(ended)) == len(ended)


@settings(max_examples=60, deadline=None)
@given(sessions())
def test_inputs_same_inputs_same_log_also_from_recorded_form(
        session: tuple[list[Candle], str, dict[str, Any], Inputs]) -> None:
    candles, slug, config, plan = session

    def digest(p: Mapping[int, Sequence[Input]]) -> str:
        _, steps = run(candles, slug, config, p)
        events = [e for step in steps for e in step]
        return log_digest((i, e.ts, e.type, e.payload()) for i, e in enumerate(events))

    # What the runner stores and reads back after a restart: kind + canonical JSON body.
    recorded = {i: [parse_input(item.kind, json.loads(canonical_json(item.to_payload())))
                    for item in items] for i, items in plan.items()}
    assert digest(plan) == digest(plan) == digest(recorded)
