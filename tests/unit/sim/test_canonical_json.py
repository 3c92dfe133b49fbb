"""canonical_json reuses one C encoder: its bytes must equal json.dumps's."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livesim.sim.candles import Candle
from livesim.sim.events import CandleClosed, EquitySnapshot, canonical_json

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False,
                                                          allow_infinity=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


def reference(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_canonical_json_any_value_equals_json_dumps_bytes(value: Any) -> None:
    assert canonical_json(value) == reference(value)


@pytest.mark.parametrize("bad", [math.nan, {"x": math.inf}, [-math.inf]])
def test_canonical_json_non_finite_float_raises_and_next_call_works(bad: Any) -> None:
    with pytest.raises(ValueError, match="Out of range float"):
        canonical_json(bad)
    assert canonical_json({"b": 1, "a": [1.5, "é"]}) == '{"a":[1.5,"é"],"b":1}'


numbers = st.integers(-10**20, 10**20) | st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**53), numbers, numbers, numbers, numbers, numbers)
def test_candle_payload_json_any_numbers_equals_encoder_bytes(
        ts: int, o: float, h: float, lo: float, c: float, v: float) -> None:
    event = CandleClosed(ts, Candle(ts, o, h, lo, c, v))
    assert event.payload_json() == reference(event.payload())


@settings(max_examples=300, deadline=None)
@given(numbers, numbers, numbers, numbers, numbers, numbers)
def test_equity_payload_json_any_numbers_equals_encoder_bytes(
        e: float, c: float, q: float, u: float, r: float, d: float) -> None:
    event = EquitySnapshot(0, equity=e, cash=c, position_qty=q, unrealized_pnl=u,
                           realized_pnl=r, drawdown_pct=d)
    assert event.payload_json() == reference(event.payload())


class Scalar(float):
    """A float subclass whose repr is not its JSON text (as numpy's float64 is)."""

    def __repr__(self) -> str:
        return f"Scalar({float(self)})"


@pytest.mark.parametrize("odd", [True, Scalar(1.5)])
def test_equity_payload_json_bool_or_float_subclass_takes_the_encoder(odd: Any) -> None:
    event = EquitySnapshot(0, equity=odd, position_qty=odd)
    assert event.payload_json() == reference(event.payload())


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_candle_and_equity_payload_json_non_finite_raises_as_the_encoder(bad: float) -> None:
    with pytest.raises(ValueError, match="Out of range float"):
        CandleClosed(0, Candle(0, 1.0, 2.0, 0.5, bad, 1.0)).payload_json()
    with pytest.raises(ValueError, match="Out of range float"):
        EquitySnapshot(0, unrealized_pnl=bad).payload_json()
