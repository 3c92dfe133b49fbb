"""Strategies from installed packages: the ``livesim.strategies`` entry-point group.

A package declares, in its ``pyproject.toml``::

    [project.entry-points."livesim.strategies"]
    dip-buyer = "my_package.strategies:DipBuyer"

and, once installed, ``dip-buyer`` is a profile like the built-ins: listed by
``GET /api/profiles`` with every key's meaning and limits, its config validated by
the same rules.  The class is built as ``Class(params)`` and must have:

* ``Params``: a frozen dataclass whose fields are declared with
  :func:`livesim.sim.schema.param` (a default, a meaning, limits) and typed
  ``int``, ``float``, ``bool``, ``str`` (with choices) or ``float | None`` /
  ``int | None``; an optional ``errors()`` method returns cross-field problems;
* ``on_candle(candle) -> list[OrderIntent]`` (:mod:`livesim.sim.intents`).

Discovery is importlib.metadata's: the entry points of the distributions found on
``sys.path``.  A plugin that does not load or does not fit is skipped with a message
(:data:`livesim.sim.profiles.PLUGIN_ERRORS`); it never hides the built-ins, and a
slug already taken is refused rather than shadowing a built-in.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from livesim.sim.broker import BrokerParams
from livesim.sim.profiles import Profile
from livesim.sim.schema import key_specs

ENTRY_POINT_GROUP = "livesim.strategies"
SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
"""A profile slug: lowercase letters, digits and dashes, as the built-ins'."""


class PluginError(ValueError):
    """An entry point that cannot become a profile."""


def load_plugin_profiles(taken: Mapping[str, Profile]) -> tuple[dict[str, Profile], list[str]]:
    """Profiles of every installed ``livesim.strategies`` entry point, sorted by slug.

    Args:
        taken: slugs already in use (the built-ins); a plugin may not reuse one.

    Returns:
        ``(profiles by slug, one message per entry point that was skipped)``.
    """
    profiles: dict[str, Profile] = {}
    errors: list[str] = []
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            if entry.name in taken or entry.name in profiles:
                raise PluginError("the slug is already taken")
            profiles[entry.name] = profile_from_entry_point(entry)
        except Exception as error:  # importing a third party's code may raise anything
            errors.append(f"{ENTRY_POINT_GROUP} entry point {entry.name!r} = {entry.value!r} "
                          f"skipped: {error}")
    return profiles, errors


def profile_from_entry_point(entry: EntryPoint) -> Profile:
    """Load ``entry`` and check that its class fits (see the module doc).

    Raises:
        PluginError: the slug, the class or its ``Params`` do not fit.
    """
    if SLUG_RE.fullmatch(entry.name) is None:
        raise PluginError("the name must be a slug: lowercase letters, digits and dashes")
    cls: Any = entry.load()
    if not isinstance(cls, type) or not callable(getattr(cls, "on_candle", None)):
        raise PluginError("must name a class with an on_candle(candle) method")
    params_cls = getattr(cls, "Params", None)
    if not isinstance(params_cls, type) or not dataclasses.is_dataclass(params_cls):
        raise PluginError("the class needs a Params dataclass")
    if not params_cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        raise PluginError("Params must be a frozen dataclass")
    for field in dataclasses.fields(params_cls):
        if "meaning" not in field.metadata:
            raise PluginError(f"Params.{field.name} must be declared with "
                              "livesim.sim.schema.param(default, meaning, ...)")
    specs = key_specs(params_cls)
    broker_keys = {spec.name for spec in key_specs(BrokerParams)}
    clash = sorted(spec.name for spec in specs if spec.name in broker_keys)
    if clash:
        raise PluginError(f"Params keys clash with session keys: {', '.join(clash)}")
    doc = (cls.__doc__ or "").strip()
    description = doc.splitlines()[0] if doc else f"{cls.__name__} from {entry.value}"
    return Profile(entry.name, cls.__name__, description, params_cls, cls)
