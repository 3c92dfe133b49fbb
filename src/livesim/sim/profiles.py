"""Profile registry: slug → strategy + default config, and config validation.

A session's config is one flat camelCase mapping: the session-wide broker keys
(:class:`~livesim.sim.broker.BrokerParams`) plus the strategy's own keys.  The
session's overrides are merged over the profile's defaults and validated key by
key (type, range, choices), then across keys (e.g. ``fast < slow``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from livesim.sim.broker import BrokerParams
from livesim.sim.schema import KeySpec, build_params, key_specs
from livesim.sim.strategies import Strategy
from livesim.sim.strategies.buy_hold import BuyHold
from livesim.sim.strategies.donchian import Donchian
from livesim.sim.strategies.manual import Manual
from livesim.sim.strategies.rsi_reversion import RsiReversion
from livesim.sim.strategies.sma_cross import SmaCross


class UnknownProfile(ValueError):
    """No profile has this slug; ``valid`` lists the ones that exist."""

    def __init__(self, slug: str) -> None:
        self.slug = slug
        self.valid = list(PROFILES)
        super().__init__(f"unknown profile {slug!r}; valid profiles: {', '.join(self.valid)}")


class InvalidConfig(ValueError):
    """The config does not validate; ``details`` is ``[{"field", "message"}, ...]``."""

    def __init__(self, details: list[dict[str, str]]) -> None:
        self.details = details
        super().__init__("invalid config: " + "; ".join(
            f"{d['field']}: {d['message']}" for d in details))


@dataclass(frozen=True)
class Profile:
    """A named strategy with its default config."""

    slug: str
    strategy: str
    description: str
    params_cls: type
    factory: Callable[[Any], Strategy]
    # Profile-specific defaults over the keys' own defaults (none of ours needs any yet).
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def specs(self) -> list[KeySpec]:
        """Every config key of this profile: broker keys first, then strategy keys."""
        return key_specs(BrokerParams) + key_specs(self.params_cls)

    def default_config(self) -> dict[str, Any]:
        """The complete default config."""
        config = {spec.name: spec.default for spec in self.specs()}
        config.update(self.defaults)
        return config


BUILTIN_PROFILES: dict[str, Profile] = {
    profile.slug: profile for profile in (
        Profile("sma-cross", "SmaCross",
                "Long when the fast SMA of closes crosses above the slow one; short (with "
                "allowShort) or flat when it crosses below.",
                SmaCross.Params, SmaCross),
        Profile("rsi-reversion", "RsiReversion",
                "Mean reversion: buy when the RSI enters oversold, sell (or short) when it "
                "enters overbought.",
                RsiReversion.Params, RsiReversion),
        Profile("donchian-breakout", "Donchian",
                "Turtle-style breakout: enter on a close beyond the entry channel, exit on a "
                "close beyond the shorter exit channel.",
                Donchian.Params, Donchian),
        Profile("buy-and-hold", "BuyHold",
                "Buy on the first candle and hold to the end: the benchmark.",
                BuyHold.Params, BuyHold),
        Profile("manual", "Manual",
                "No strategy: only outside orders (people at the page, bots over HTTP) "
                "trade the session.",
                Manual.Params, Manual),
    )
}

PROFILES: dict[str, Profile] = dict(BUILTIN_PROFILES)
"""Built-ins, then the installed plugins (:func:`reload_plugins` refreshes them)."""

PLUGIN_ERRORS: list[str] = []
"""Why an installed ``livesim.strategies`` entry point was not made a profile."""


def reload_plugins() -> list[str]:
    """Rescan the ``livesim.strategies`` entry points and rebuild :data:`PROFILES`.

    Returns:
        One message per entry point that could not become a profile (it is skipped;
        a broken plugin never takes the built-ins down).
    """
    from livesim.sim.plugins import load_plugin_profiles  # plugins imports Profile

    plugins, errors = load_plugin_profiles(BUILTIN_PROFILES)
    PROFILES.clear()
    PROFILES.update(BUILTIN_PROFILES)
    PROFILES.update(plugins)
    PLUGIN_ERRORS[:] = errors
    return errors


def get_profile(slug: str) -> Profile:
    """The profile registered under ``slug``.

    Raises:
        UnknownProfile: no such slug.
    """
    try:
        return PROFILES[slug]
    except KeyError:
        raise UnknownProfile(slug) from None


def list_profiles() -> list[dict[str, Any]]:
    """Every profile with its default config and each key's type, limits and meaning."""
    out = []
    for profile in PROFILES.values():
        defaults = profile.default_config()
        keys = {}
        for spec in profile.specs():
            described = spec.describe()
            described["default"] = defaults[spec.name]
            keys[spec.name] = described
        out.append({"slug": profile.slug, "strategy": profile.strategy,
                    "description": profile.description, "defaultConfig": defaults,
                    "keys": keys})
    return out


def resolve_config(slug: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``overrides`` over the profile's defaults and validate the result.

    Returns:
        The complete config (every key of the profile), numbers normalised to the
        key's type.

    Raises:
        UnknownProfile: no such slug.
        InvalidConfig: unknown keys, wrong types, out-of-range or inconsistent values.
    """
    profile = get_profile(slug)
    if not isinstance(overrides, Mapping) or not all(isinstance(k, str) for k in overrides):
        raise InvalidConfig([{"field": "config", "message": "must be an object"}])
    specs = profile.specs()
    config = profile.default_config()
    errors: list[dict[str, str]] = []
    valid = ", ".join(sorted(config))
    for key in sorted(overrides):
        if key not in config:
            errors.append({"field": key, "message": f"unknown key; valid keys: {valid}"})
    for spec in specs:
        if spec.name not in overrides:
            continue
        value, message = spec.check(overrides[spec.name])
        if message is None:
            config[spec.name] = value
        else:
            errors.append({"field": spec.name, "message": message})
    if errors:
        raise InvalidConfig(errors)
    for params_cls in (BrokerParams, profile.params_cls):
        cross_check = getattr(build_params(params_cls, config), "errors", None)
        if cross_check is not None:  # a plugin's Params may have no cross-field rules
            errors.extend(cross_check())
    if errors:
        raise InvalidConfig(errors)
    return config


def build_strategy(slug: str, config: Mapping[str, Any]) -> Strategy:
    """A fresh strategy instance for a config returned by :func:`resolve_config`."""
    profile = get_profile(slug)
    return profile.factory(build_params(profile.params_cls, config))


reload_plugins()
