"""Strategies from installed packages (entry-point group ``livesim.strategies``).

``pip install`` of tests/support/plugins/livesim_example_plugin would write a ``.dist-info``
directory with the project's entry points into site-packages; importlib.metadata
finds distributions by such directories on ``sys.path``.  The fixture writes the
same directory, from the plugin's own pyproject.toml, into a temporary folder on
``sys.path``: that is an installed distribution as far as discovery goes, without a
slow pip run.
"""

from __future__ import annotations

import random
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from livesim.sim.candles import Candle
from livesim.sim.engine import build_engine
from livesim.sim.events import canonical_json
from livesim.sim.plugins import ENTRY_POINT_GROUP
from livesim.sim.profiles import (
    PLUGIN_ERRORS,
    PROFILES,
    InvalidConfig,
    list_profiles,
    reload_plugins,
    resolve_config,
)

PLUGIN = Path(__file__).parents[2] / "support" / "plugins" / "livesim_example_plugin"
BUILTINS = ["sma-cross", "rsi-reversion", "donchian-breakout", "buy-and-hold", "manual"]


def install_dist_info(site: Path, name: str, version: str,
                      entry_points: dict[str, dict[str, str]]) -> None:
    """Write what pip writes for discovery: METADATA and entry_points.txt."""
    dist = site / f"{name.replace('-', '_')}-{version}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = []
    for group, entries in entry_points.items():
        lines.append(f"[{group}]")
        lines.extend(f"{key} = {value}" for key, value in entries.items())
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary site directory on sys.path; plugins are rescanned when it goes."""
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    monkeypatch.undo()
    for module in ("livesim_example_plugin", "livesim_broken_plugin"):
        sys.modules.pop(module, None)
    reload_plugins()


@pytest.fixture
def example_plugin(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """tests/support/plugins/livesim_example_plugin, installed as its pyproject.toml says."""
    project = tomllib.loads((PLUGIN / "pyproject.toml").read_text())["project"]
    install_dist_info(site, project["name"], project["version"], project["entry-points"])
    monkeypatch.syspath_prepend(str(PLUGIN / "src"))
    assert reload_plugins() == []


def walk(n: int, seed: int = 5) -> list[Candle]:
    rng = random.Random(seed)
    price, out = 100.0, []
    for i in range(n):
        close = round(price * (1.0 + rng.gauss(0.0, 0.02)), 2)
        out.append(Candle(i * 60_000, price, max(price, close) * 1.01,
                          min(price, close) * 0.99, close, 1.0))
        price = close
    return out


@pytest.mark.usefixtures("example_plugin")
def test_plugin_installed_strategy_is_listed_like_a_builtin() -> None:
    listed = {p["slug"]: p for p in list_profiles()}
    assert list(listed) == [*BUILTINS, "dip-buyer"]
    dip = listed["dip-buyer"]
    assert dip["strategy"] == "DipBuyer"
    assert dip["description"] == ("Buy a dip: a limit buy below each close, with a "
                                  "take-profit above the limit.")
    assert dip["keys"]["dipPct"] == {
        "type": "number", "default": 1.0, "nullable": False,
        "meaning": "Place the buy limit this many percent below the close.",
        "range": {"min": 0, "max": 50, "minInclusive": False, "maxInclusive": True}}
    assert dip["defaultConfig"]["initialCash"] == 10_000.0  # session keys come along
    canonical_json(list(listed.values()))


@pytest.mark.usefixtures("example_plugin")
def test_plugin_config_is_validated_by_the_same_rules() -> None:
    with pytest.raises(InvalidConfig) as caught:
        resolve_config("dip-buyer", {"dipPct": 0, "patience": 2.5, "nope": 1})
    assert caught.value.details == [
        {"field": "nope", "message": caught.value.details[0]["message"]},
        {"field": "dipPct", "message": "must be > 0 and <= 50"},
        {"field": "patience", "message": "must be an integer"},
    ]
    assert resolve_config("dip-buyer", {"dipPct": 2})["dipPct"] == 2.0


@pytest.mark.usefixtures("example_plugin")
def test_plugin_strategy_trades_with_limit_orders() -> None:
    candles = walk(300)
    engine = build_engine("dip-buyer", {"dipPct": 1.5, "targetPct": 2.0, "patience": 2},
                          timeframe="1m", candle_count=len(candles))
    types: list[str] = []
    for candle in candles:
        for event in engine.step(candle):
            types.append(event.type)
            canonical_json(event.payload())
    assert {"order_filled", "order_expired", "trade_opened", "trade_closed"} <= set(types)
    assert engine.stats()["trades"] > 0


def test_plugin_that_does_not_fit_is_skipped_with_a_reason(site: Path) -> None:
    (site / "livesim_broken_plugin.py").write_text(
        "from dataclasses import dataclass\n\n"
        "class NoParams:\n"
        "    def on_candle(self, candle):\n"
        "        return []\n\n"
        "class PlainParams(NoParams):\n"
        "    @dataclass(frozen=True)\n"
        "    class Params:\n"
        "        n: int = 3\n\n"
        "NOT_A_CLASS = 3\n")
    install_dist_info(site, "livesim-broken-plugin", "1.0", {ENTRY_POINT_GROUP: {
        "no-params": "livesim_broken_plugin:NoParams",
        "plain": "livesim_broken_plugin:PlainParams",
        "constant": "livesim_broken_plugin:NOT_A_CLASS",
        "missing": "livesim_nowhere:Strategy",
        "sma-cross": "livesim_broken_plugin:PlainParams",
        "Bad_Slug": "livesim_broken_plugin:NoParams",
    }})
    errors = reload_plugins()
    assert list(PROFILES) == BUILTINS
    assert errors == PLUGIN_ERRORS
    reasons = {e.split("'")[1]: e.split("skipped: ", 1)[1] for e in errors}
    assert reasons == {
        "Bad_Slug": "the name must be a slug: lowercase letters, digits and dashes",
        "constant": "must name a class with an on_candle(candle) method",
        "missing": "No module named 'livesim_nowhere'",
        "no-params": "the class needs a Params dataclass",
        "plain": "Params.n must be declared with livesim.sim.schema.param(default, "
                 "meaning, ...)",
        "sma-cross": "the slug is already taken",
    }


def test_plugin_gone_once_uninstalled() -> None:
    assert reload_plugins() == []
    assert list(PROFILES) == BUILTINS
