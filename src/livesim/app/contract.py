"""The declaration layer of the HTTP contract: one object per value, checked and documented.

A :class:`Rule` says what one JSON value or query/header string may be (type, range,
length, pattern, choices); the same object *checks* a value and *writes* its JSON
Schema, so what the server refuses and what ``/openapi.json`` promises come from one
set of numbers.  Bodies, query strings and headers are built from rules in
:mod:`livesim.app.inputs`; an :class:`~livesim.app.operation.Operation` (declared in
:mod:`livesim.app.api`) groups one route's inputs and responses; :mod:`livesim.app.openapi`
builds the document from the operations the app serves, and the route handlers parse
their input through the same operations.

Why our own layer and not pydantic v2 or msgspec: the contract is eight kinds of value
and a dozen operations, and three of its rules fit those libraries badly: a bound that is
a server setting (``speed`` up to ``LIVESIM_MAX_SPEED``), query strings that must be ASCII
decimal (pydantic's lax int parser takes ``1_000``; its strict mode takes no strings at
all) with "repeated" and "empty = absent" rules, and error details in our
``{field, message}`` words.  Each would need a custom type and an error translator, more
code than this module, plus a dependency.  The rules are plain data, so the contract test
reads them back (:func:`constraints`) and checks the document against them.

Rules that apply everywhere:

- ``true`` is not a number, ``1.5`` is not a whole number (``1.0`` is, as in JSON
  Schema, and becomes ``1``); a number of any size is compared exactly (never through
  ``float()``, which overflows at 1e309);
- unknown body fields and query parameters are errors, not silently ignored typos.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from livesim.config import Settings

Schema = dict[str, Any]
# A bound is a number or read from the settings (the speed limit is one).
Bound = int | float | Callable[[Settings], float] | None
# Whole numbers in a query string or header: ASCII decimal only ("²" and "１" are digits
# to str.isdigit(), and int() takes "1_000"; neither is a number on the wire).
_ASCII_INTEGER = re.compile(r"-?[0-9]{1,19}")


def _bound(bound: Bound, settings: Settings) -> float | None:
    if callable(bound):
        return bound(settings)
    return bound


def _num(value: float | None) -> int | float | None:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def is_integer(value: Any) -> bool:
    """A JSON whole number: an ``int`` that is not a ``bool``, or a float with no fraction
    (JSON, like JSON Schema's ``integer``, does not tell ``5`` from ``5.0``)."""
    if isinstance(value, float):
        return math.isfinite(value) and value.is_integer()
    return isinstance(value, int) and not isinstance(value, bool)


def normalised(rule: Rule, value: Any) -> Any:
    """``value`` in the form the server works with: a whole ``5.0`` becomes ``5``."""
    if isinstance(rule, Integer) and isinstance(value, float):
        return int(value)
    return value


class Rule(Protocol):
    """What one value may be: checked by :meth:`check`, documented by :meth:`schema`."""

    def check(self, value: Any, settings: Settings) -> str | None:
        """What is wrong with ``value`` (a message for the client), or None."""

    def schema(self, settings: Settings) -> Schema:
        """The value's JSON Schema."""

    def from_text(self, raw: str) -> Any:
        """The value a query string or header spells, before :meth:`check`."""


@dataclass(frozen=True)
class Integer:
    """A whole number in ``[minimum, maximum]``."""

    minimum: Bound = None
    maximum: Bound = None
    description: str = ""

    def check(self, value: Any, settings: Settings) -> str | None:
        low, high = _bound(self.minimum, settings), _bound(self.maximum, settings)
        if (not is_integer(value) or (low is not None and value < low)
                or (high is not None and value > high)):
            return f"must be {_range_words('a whole number', low, high)}"
        return None

    def schema(self, settings: Settings) -> Schema:
        return _with_range({"type": "integer"}, self.minimum, self.maximum, settings,
                           self.description)

    def from_text(self, raw: str) -> Any:
        return int(raw) if _ASCII_INTEGER.fullmatch(raw) else raw


@dataclass(frozen=True)
class Number:
    """A finite number (whole or not, never a bool) in ``[minimum, maximum]``."""

    minimum: Bound = None
    maximum: Bound = None
    description: str = ""

    def check(self, value: Any, settings: Settings) -> str | None:
        low, high = _bound(self.minimum, settings), _bound(self.maximum, settings)
        # int compared with float is exact in Python, so a 400-digit integer is just big
        if (isinstance(value, bool) or not isinstance(value, int | float)
                or (isinstance(value, float) and not math.isfinite(value))
                or (low is not None and value < low) or (high is not None and value > high)):
            return f"must be {_range_words('a number', low, high)}"
        return None

    def schema(self, settings: Settings) -> Schema:
        return _with_range({"type": "number"}, self.minimum, self.maximum, settings,
                           self.description)

    def from_text(self, raw: str) -> Any:
        return raw


@dataclass(frozen=True)
class String:
    """A string of ``min_length..max_length`` characters, all of it matching ``pattern``."""

    max_length: int | None = 200
    min_length: int = 1
    pattern: re.Pattern[str] | None = None
    hint: str | None = None
    description: str = ""
    format: str | None = None

    def check(self, value: Any, settings: Settings) -> str | None:
        if (not isinstance(value, str) or len(value) < self.min_length
                or (self.max_length is not None and len(value) > self.max_length)
                or (self.pattern is not None and not self.pattern.fullmatch(value))):
            if self.hint:
                return self.hint
            return f"must be a string of {self.min_length} to {self.max_length} characters"
        return None

    def schema(self, settings: Settings) -> Schema:
        out: Schema = {"type": "string"}
        if self.min_length:
            out["minLength"] = self.min_length
        if self.max_length is not None:
            out["maxLength"] = self.max_length
        if self.pattern is not None:
            out["pattern"] = f"^(?:{self.pattern.pattern})$"
        if self.format:
            out["format"] = self.format
        return described(out, self.description or self.hint or "")

    def from_text(self, raw: str) -> Any:
        return raw


@dataclass(frozen=True)
class OneOf:
    """One of the given strings; the message lists them."""

    values: tuple[str, ...]
    description: str = ""

    def check(self, value: Any, settings: Settings) -> str | None:
        if not isinstance(value, str) or value not in self.values:
            return f"must be one of {', '.join(self.values)}"
        return None

    def schema(self, settings: Settings) -> Schema:
        return described({"type": "string", "enum": list(self.values)}, self.description)

    def from_text(self, raw: str) -> Any:
        return raw


@dataclass(frozen=True)
class Either:
    """Any one of ``rules``; a value that fits none is told what each would take."""

    rules: tuple[Rule, ...]
    description: str = ""

    def check(self, value: Any, settings: Settings) -> str | None:
        messages = [rule.check(value, settings) for rule in self.rules]
        if all(message is not None for message in messages):
            return " or ".join(message.removeprefix("must be ") if index else message
                               for index, message in enumerate(messages) if message)
        return None

    def schema(self, settings: Settings) -> Schema:
        return described({"anyOf": [rule.schema(settings) for rule in self.rules]},
                          self.description)

    def from_text(self, raw: str) -> Any:
        return raw


@dataclass(frozen=True)
class Checked:
    """A string whose meaning a domain function decides (``parse`` raises ValueError)."""

    base: String
    parse: Callable[[str], object]

    def check(self, value: Any, settings: Settings) -> str | None:
        message = self.base.check(value, settings)
        if message is not None:
            return message
        try:
            self.parse(value)
        except ValueError as error:
            return str(error)
        return None

    def schema(self, settings: Settings) -> Schema:
        return self.base.schema(settings)

    def from_text(self, raw: str) -> Any:
        return raw


@dataclass(frozen=True)
class AnyObject:
    """A JSON object with at most ``max_keys`` keys (its keys are checked elsewhere)."""

    max_keys: int | None = None
    description: str = ""

    def check(self, value: Any, settings: Settings) -> str | None:
        if not isinstance(value, dict) or (self.max_keys is not None
                                           and len(value) > self.max_keys):
            return f"must be an object with at most {self.max_keys} keys"
        return None

    def schema(self, settings: Settings) -> Schema:
        out: Schema = {"type": "object"}
        if self.max_keys is not None:
            out["maxProperties"] = self.max_keys
        return described(out, self.description)

    def from_text(self, raw: str) -> Any:
        return raw


# ---- shapes only documented (responses) -----------------------------------------------


@dataclass(frozen=True)
class Shape:
    """A JSON Schema written out for what the server sends (never checked at run time:
    schemathesis checks real answers against it in the contract test)."""

    schema_: Schema

    def schema(self, settings: Settings) -> Schema:
        return self.schema_


def shape(rule: Rule | Shape, settings: Settings) -> Schema:
    """The schema of a rule or of a documented shape."""
    return rule.schema(settings)


# ---- helpers --------------------------------------------------------------------------


def _range_words(what: str, low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{what} from {_num(low)} to {_num(high)}"
    if low is not None:
        return f"{what} of at least {_num(low)}"
    if high is not None:
        return f"{what} of at most {_num(high)}"
    return what


def _with_range(out: Schema, minimum: Bound, maximum: Bound, settings: Settings,
                description: str) -> Schema:
    low, high = _bound(minimum, settings), _bound(maximum, settings)
    if low is not None:
        out["minimum"] = _num(low)
    if high is not None:
        out["maximum"] = _num(high)
    return described(out, description)


def described(out: Schema, description: str) -> Schema:
    """``out`` with ``description`` added when there is one."""
    if description:
        out = {**out, "description": description}
    return out


def constraints(schema: Schema, where: str = "") -> dict[str, Any]:
    """Every constraint keyword in ``schema``, flattened as ``{"path.keyword": value}``.

    The contract test compares the table read from the served document with the one
    read from the declarations, so a constraint cannot be documented and not enforced
    (or the reverse) without the test naming it.
    """
    table: dict[str, Any] = {}
    keywords = ("type", "minimum", "maximum", "minLength", "maxLength", "pattern", "enum",
                "const", "required", "additionalProperties", "maxProperties", "format")
    for key in keywords:
        if key in schema:
            table[f"{where}{key}"] = schema[key]
    for name, child in schema.get("properties", {}).items():
        table.update(constraints(child, f"{where}{name}."))
    for combiner in ("anyOf", "oneOf", "allOf"):
        for index, child in enumerate(schema.get(combiner, [])):
            table.update(constraints(child, f"{where}{combiner}[{index}]."))
    return table


@dataclass(frozen=True)
class Reply:
    """One documented response: its meaning and (JSON) body."""

    description: str
    body: Rule | Shape | None = None
    media_type: str = "application/json"
    headers: tuple[str, ...] = field(default=())
    # other media types the same answer may come in (CSV of a JSON table), as text
    alternatives: tuple[str, ...] = field(default=())
