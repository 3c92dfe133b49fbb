"""canonical_json reuses one C encoder: its bytes must equal json.dumps's."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livesim.sim.events import canonical_json

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
