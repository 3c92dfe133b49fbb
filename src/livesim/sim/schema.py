"""Typed, documented config keys declared on frozen ``Params`` dataclasses.

Each field of a ``Params`` class is declared with :func:`param`, which records its
meaning and range next to its default.  From that one declaration we derive the
camelCase config key, the ``GET /api/profiles`` description and the validation of
a session's overrides, so the three can never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

# Annotation strings (``from __future__ import annotations``) mapped to key kinds.
_KINDS = {
    "int": ("integer", False),
    "float": ("number", False),
    "bool": ("boolean", False),
    "str": ("choice", False),
    "float | None": ("number", True),
    "int | None": ("integer", True),
}


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One config key: its camelCase name, kind, default, limits and meaning."""

    name: str
    attr: str
    kind: str  # integer | number | boolean | choice
    nullable: bool
    default: Any
    meaning: str
    minimum: float | None = None
    maximum: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    choices: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        """The key as listed by ``GET /api/profiles``."""
        out: dict[str, Any] = {"type": self.kind, "default": self.default,
                               "meaning": self.meaning, "nullable": self.nullable}
        if self.minimum is not None or self.maximum is not None:
            out["range"] = {"min": self.minimum, "max": self.maximum,
                            "minInclusive": not self.min_exclusive,
                            "maxInclusive": not self.max_exclusive}
        if self.choices:
            out["choices"] = list(self.choices)
        return out

    def json_schema(self) -> dict[str, Any]:
        """The key as a JSON Schema (the HTTP contract documents config keys with it)."""
        kinds = {"integer": "integer", "number": "number", "boolean": "boolean",
                 "choice": "string"}
        out: dict[str, Any] = {"type": [kinds[self.kind], "null"] if self.nullable
                               else kinds[self.kind], "description": self.meaning}
        if self.choices:
            out["enum"] = [*self.choices, None] if self.nullable else list(self.choices)
        if self.minimum is not None:
            out["exclusiveMinimum" if self.min_exclusive else "minimum"] = self.minimum
        if self.maximum is not None:
            out["exclusiveMaximum" if self.max_exclusive else "maximum"] = self.maximum
        return out

    def check(self, value: Any) -> tuple[Any, str | None]:
        """Return ``(normalised value, None)`` or ``(value, error message)``."""
        if value is None:
            return (None, None) if self.nullable else (value, "must not be null")
        if self.kind == "boolean":
            return (value, None) if isinstance(value, bool) else (value, "must be a boolean")
        if self.kind == "choice":
            if isinstance(value, str) and value in self.choices:
                return value, None
            return value, "must be one of " + ", ".join(repr(c) for c in self.choices)
        # bool is an int subclass in Python; a JSON true is never a number here.
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value, f"must be {'an integer' if self.kind == 'integer' else 'a number'}"
        if self.kind == "integer" and isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON does not tell 5 from 5.0 (nor does JSON Schema)
        if self.kind == "integer" and not isinstance(value, int):
            return value, "must be an integer"
        if isinstance(value, float) and not math.isfinite(value):
            return value, "must be a finite number"
        if self.kind == "integer":
            return value, self._range_error(value)
        try:
            number = float(value)
        except OverflowError:  # a JSON integer of 309+ digits: no float holds it
            return value, "must be a finite number"
        return number, self._range_error(number)

    def _range_error(self, value: float) -> str | None:
        low_bad = self.minimum is not None and (
            value <= self.minimum if self.min_exclusive else value < self.minimum)
        high_bad = self.maximum is not None and (
            value >= self.maximum if self.max_exclusive else value > self.maximum)
        if not (low_bad or high_bad):
            return None
        low = "" if self.minimum is None else (
            f"{'>' if self.min_exclusive else '>='} {self.minimum:g}")
        high = "" if self.maximum is None else (
            f"{'<' if self.max_exclusive else '<='} {self.maximum:g}")
        return "must be " + " and ".join(part for part in (low, high) if part)


def param(default: Any, meaning: str, *, minimum: float | None = None,
          maximum: float | None = None, min_exclusive: bool = False,
          max_exclusive: bool = False, choices: tuple[str, ...] = ()) -> Any:
    """Declare a ``Params`` field with its default, one-line meaning and limits."""
    return field(default=default, metadata={
        "meaning": meaning, "minimum": minimum, "maximum": maximum,
        "min_exclusive": min_exclusive, "max_exclusive": max_exclusive, "choices": choices,
    })


def camel(name: str) -> str:
    """``stop_loss_pct`` → ``stopLossPct``."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _kind_of(annotation: Any) -> tuple[str, bool]:
    # A string under ``from __future__ import annotations``; a plugin written without
    # it gives the type itself (``int``, or ``float | None`` whose str() is the same).
    name = annotation.__name__ if isinstance(annotation, type) else str(annotation)
    try:
        return _KINDS[name]
    except KeyError:
        raise TypeError(f"unsupported config key type {name!r}; use one of "
                        f"{', '.join(_KINDS)}") from None


def key_specs(params_cls: type) -> list[KeySpec]:
    """The :class:`KeySpec` of every field of a ``Params`` dataclass, in field order."""
    specs = []
    for f in fields(params_cls):
        kind, nullable = _kind_of(f.type)
        meta = f.metadata
        assert f.default is not MISSING, f"{params_cls.__qualname__}.{f.name} needs a default"
        specs.append(KeySpec(
            name=camel(f.name), attr=f.name, kind=kind, nullable=nullable, default=f.default,
            meaning=meta["meaning"], minimum=meta["minimum"], maximum=meta["maximum"],
            min_exclusive=meta["min_exclusive"], max_exclusive=meta["max_exclusive"],
            choices=meta["choices"]))
    return specs


def build_params(params_cls: type, config: Mapping[str, Any]) -> Any:
    """Instantiate ``params_cls`` from the camelCase keys of a validated config."""
    return params_cls(**{spec.attr: config[spec.name] for spec in key_specs(params_cls)})
