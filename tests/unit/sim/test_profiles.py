"""Profile registry: listing, merging overrides, and every kind of config error."""

from __future__ import annotations

from typing import Any

import pytest

from livesim.sim.events import canonical_json
from livesim.sim.profiles import (
    InvalidConfig,
    UnknownProfile,
    build_strategy,
    list_profiles,
    resolve_config,
)

SLUGS = ["sma-cross", "rsi-reversion", "donchian-breakout", "buy-and-hold", "manual"]


def errors_of(slug: str, overrides: dict[str, Any]) -> list[dict[str, str]]:
    with pytest.raises(InvalidConfig) as caught:
        resolve_config(slug, overrides)
    return caught.value.details


def test_list_profiles_five_builtins_describe_every_key() -> None:
    profiles = list_profiles()
    assert [p["slug"] for p in profiles] == SLUGS
    canonical_json(profiles)
    sma = profiles[0]
    assert sma["strategy"] == "SmaCross"
    assert sma["keys"]["fast"] == {
        "type": "integer", "default": 10, "nullable": False,
        "meaning": "Candles in the fast simple moving average of closes.",
        "range": {"min": 1, "max": 10_000, "minInclusive": True, "maxInclusive": True}}
    assert sma["keys"]["fill"]["choices"] == ["open", "close"]
    assert sma["keys"]["stopLossPct"]["nullable"] is True
    for profile in profiles:
        assert profile["description"]
        assert set(profile["keys"]) == set(profile["defaultConfig"])
        for key in profile["keys"].values():
            assert key["meaning"]
            assert key["type"] in {"integer", "number", "boolean", "choice"}


@pytest.mark.parametrize("slug", SLUGS)
def test_resolve_config_no_overrides_gives_defaults_that_build(slug: str) -> None:
    config = resolve_config(slug, {})
    assert config["initialCash"] == 10_000.0
    assert config["fill"] == "open"
    assert config["allowShort"] is False
    build_strategy(slug, config)


def test_resolve_config_overrides_merge_and_numbers_normalise() -> None:
    config = resolve_config("sma-cross", {"fast": 3, "initialCash": 500, "stopLossPct": None,
                                          "takeProfitPct": 2})
    assert (config["fast"], config["slow"]) == (3, 30)
    assert config["initialCash"] == 500.0
    assert isinstance(config["initialCash"], float)
    assert config["takeProfitPct"] == 2.0


def test_resolve_config_unknown_profile_lists_valid_slugs() -> None:
    with pytest.raises(UnknownProfile) as caught:
        resolve_config("martingale", {})
    assert caught.value.valid == SLUGS
    assert isinstance(caught.value, ValueError)


def test_resolve_config_unknown_key_lists_valid_keys() -> None:
    (error,) = errors_of("buy-and-hold", {"leverage": 3})
    assert error["field"] == "leverage"
    assert error["message"].startswith("unknown key; valid keys: allowShort, closeAtEnd,")


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"commission": True}, "commission", "must be a number"),
    ({"fast": True}, "fast", "must be an integer"),
    ({"fast": 2.5}, "fast", "must be an integer"),
    ({"fast": "5"}, "fast", "must be an integer"),
    ({"initialCash": 0}, "initialCash", "must be > 0 and <= 1e+15"),
    ({"sizeFraction": 1.5}, "sizeFraction", "must be > 0 and <= 1"),
    ({"commission": 0.1}, "commission", "must be >= 0 and < 0.1"),
    ({"commission": float("nan")}, "commission", "must be a finite number"),
    ({"allowShort": 1}, "allowShort", "must be a boolean"),
    ({"fill": "vwap"}, "fill", "must be one of 'open', 'close'"),
    ({"initialCash": None}, "initialCash", "must not be null"),
    ({"fast": 30}, "fast", "must be less than slow"),
])
def test_resolve_config_bad_value_names_field_and_rule(
        overrides: dict[str, Any], field: str, message: str) -> None:
    assert errors_of("sma-cross", overrides) == [{"field": field, "message": message}]


def test_resolve_config_several_errors_reported_together() -> None:
    errors = errors_of("rsi-reversion", {"period": 1, "oversold": "low", "nope": 1})
    assert [e["field"] for e in errors] == ["nope", "period", "oversold"]


@pytest.mark.parametrize("overrides", [None, [1, 2], {1: 2}])
def test_resolve_config_overrides_not_an_object_is_invalid(overrides: Any) -> None:
    assert errors_of("buy-and-hold", overrides) == [
        {"field": "config", "message": "must be an object"}]


def test_resolve_config_rsi_thresholds_must_be_ordered() -> None:
    assert errors_of("rsi-reversion", {"oversold": 80}) == [
        {"field": "oversold", "message": "must be less than overbought"}]
