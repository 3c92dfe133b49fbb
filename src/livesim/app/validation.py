"""Hostile-input helpers: pure checks that turn bad bodies and query strings into 400s.

Every helper reports *all* the problems of a request at once, as
``InvalidInput(details=[{field, message}, ...])``, so a client fixes its request in one
round trip.  Nothing here touches the database or the request object: routes pass in
the raw body or ``request.args`` and get plain Python values back.

Rules that apply everywhere:

- a JSON body is one object; ``NaN``/``Infinity``, duplicate keys, invalid UTF-8 and
  pathological nesting are refused (each has bitten a JSON API somewhere: NaN slips past
  range checks, a duplicate key means two parsers see two different requests);
- ``true`` is not a number and ``1.0`` is not a whole number;
- unknown fields and query parameters are errors, not silently ignored typos;
- a malformed session id is a 404, exactly like another user's session, so a caller
  cannot tell "malformed" from "exists but not yours" and routes need no special case.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from livesim.errors import InvalidInput
from livesim.runner.lifecycle import canonical_session_id
from livesim.sim.candles import TIMEFRAMES

# A check looks at one value and returns what is wrong with it, or None when it is fine.
Check = Callable[[Any], str | None]

# Used with fullmatch: "$" would also match before a trailing newline.
SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,31}")
SYMBOL_HINT = "must be 1-32 of A-Z a-z 0-9 . _ : / - starting with a letter or digit"
# Nesting deeper than this is an attack, not a strategy config.
MAX_JSON_DEPTH = 32
# The largest seq a client may name (fromSeq): far past any log, well inside bigint.
MAX_SEQ = 2**62
# A query value longer than this is never a valid livesim parameter.
MAX_QUERY_VALUE_CHARS = 256


class Problems:
    """Field problems gathered while checking one request."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, field: str, message: str) -> None:
        """Record that ``field`` is wrong, and why."""
        self.items.append({"field": field, "message": message})

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self, message: str, code: str = "invalid_input") -> None:
        """Raise one :class:`InvalidInput` listing every problem, if there are any."""
        if self.items:
            raise InvalidInput(message, code=code, details=list(self.items))


def parse_json_object(raw: bytes | str, *, what: str = "the body") -> dict[str, Any]:
    """Decode a request body that must be one JSON object.

    Raises:
        InvalidInput: code ``invalid_json`` with the reason.
    """
    def reject_constant(name: str) -> float:
        raise ValueError(f"{name} is not valid JSON")

    def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise ValueError(f"duplicate key {key!r}")
            result[key] = value
        return result

    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        value = json.loads(text, parse_constant=reject_constant, object_pairs_hook=unique_keys)
    except UnicodeDecodeError:
        raise InvalidInput(f"{what} is not UTF-8", code="invalid_json") from None
    except RecursionError:
        raise InvalidInput(f"{what} is nested too deeply", code="invalid_json") from None
    except ValueError as error:
        raise InvalidInput(f"{what} must be a JSON object: {_reason(error)}",
                           code="invalid_json") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"{what} must be a JSON object", code="invalid_json")
    if _depth(value) > MAX_JSON_DEPTH:
        raise InvalidInput(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels",
                           code="invalid_json")
    return value


def _reason(error: ValueError) -> str:
    # json's messages carry a position ("line 1 column 5 (char 4)"), which helps; ours too.
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at line {error.lineno} column {error.colno}"
    return str(error)


def _depth(value: Any) -> int:
    # Iterative, so measuring a hostile document cannot itself blow the stack.
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return deepest


# ---- checks for one value -----------------------------------------------------------


def is_integer(value: Any) -> bool:
    """A JSON whole number: an ``int`` that is not a ``bool``."""
    return isinstance(value, int) and not isinstance(value, bool)


def integer(minimum: int, maximum: int) -> Check:
    """A whole number in ``[minimum, maximum]``."""
    def check(value: Any) -> str | None:
        if not is_integer(value) or not minimum <= value <= maximum:
            return f"must be a whole number from {minimum} to {maximum}"
        return None
    return check


def number(minimum: float, maximum: float) -> Check:
    """A finite number (whole or not, never a bool) in ``[minimum, maximum]``."""
    def check(value: Any) -> str | None:
        if (isinstance(value, bool) or not isinstance(value, int | float)
                or not math.isfinite(value) or not minimum <= value <= maximum):
            return f"must be a number from {minimum:g} to {maximum:g}"
        return None
    return check


def boolean() -> Check:
    """``true`` or ``false`` (not 0/1, not "true")."""
    def check(value: Any) -> str | None:
        return None if isinstance(value, bool) else "must be true or false"
    return check


def string(*, max_length: int = 200, pattern: re.Pattern[str] | None = None,
           hint: str | None = None) -> Check:
    """A non-empty string of at most ``max_length`` characters, all of it matching ``pattern``."""
    def check(value: Any) -> str | None:
        if (not isinstance(value, str) or not 1 <= len(value) <= max_length
                or (pattern is not None and not pattern.fullmatch(value))):
            return hint or f"must be a string of 1 to {max_length} characters"
        return None
    return check


def one_of(values: Iterable[str]) -> Check:
    """One of the given strings; the message lists them."""
    allowed = tuple(values)

    def check(value: Any) -> str | None:
        if not isinstance(value, str) or value not in allowed:
            return f"must be one of {', '.join(allowed)}"
        return None
    return check


def json_object(max_keys: int = 100) -> Check:
    """A JSON object with at most ``max_keys`` keys."""
    def check(value: Any) -> str | None:
        if not isinstance(value, dict) or len(value) > max_keys:
            return f"must be an object with at most {max_keys} keys"
        return None
    return check


def symbol() -> Check:
    """A market symbol such as ``BTCUSDT``, ``EUR/USD`` or ``AAPL``."""
    return string(max_length=32, pattern=SYMBOL, hint=SYMBOL_HINT)


def timeframe() -> Check:
    """One of the fixed timeframes (``1m`` ... ``1d``)."""
    return one_of(TIMEFRAMES)


# ---- bodies -------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """How one body field is checked."""

    check: Check
    required: bool = False


def check_fields(body: Mapping[str, Any], fields: Mapping[str, Field],
                 problems: Problems | None = None) -> Problems:
    """Check ``body`` against ``fields``: unknown, missing and malformed fields.

    Returns the problems (added to ``problems`` when given), in a stable order:
    unknown fields, then the declared fields in declaration order.
    """
    problems = Problems() if problems is None else problems
    for name in sorted(set(body) - set(fields)):
        problems.add(name, "unknown field")
    for name, field in fields.items():
        if name not in body:
            if field.required:
                problems.add(name, "required")
            continue
        message = field.check(body[name])
        if message is not None:
            problems.add(name, message)
    return problems


def validate_body(body: Mapping[str, Any], fields: Mapping[str, Field], *,
                  message: str = "the request body is invalid",
                  code: str = "invalid_input") -> dict[str, Any]:
    """``body`` as a dict when every field passes, else one 400 listing every problem."""
    check_fields(body, fields).raise_if_any(message, code)
    return dict(body)


# ---- query strings ------------------------------------------------------------------


class QueryArgs(Protocol):
    """What routes pass in: werkzeug's ``request.args`` (a MultiDict) fits."""

    def __iter__(self) -> Any: ...

    def getlist(self, key: str) -> list[str]: ...


@dataclass(frozen=True)
class Param:
    """How one query parameter is parsed; ``parse`` raises ValueError with the reason."""

    parse: Callable[[str], Any]
    default: Any = None
    required: bool = False


def int_param(minimum: int, maximum: int, default: int | None = None, *,
              required: bool = False) -> Param:
    """A whole-number parameter in ``[minimum, maximum]`` (decimal digits, optional ``-``)."""
    def parse(raw: str) -> int:
        if not re.fullmatch(r"-?[0-9]{1,19}", raw) or not minimum <= int(raw) <= maximum:
            raise ValueError(f"must be a whole number from {minimum} to {maximum}")
        return int(raw)
    return Param(parse, default, required)


def enum_param(values: Collection[str], default: str | None = None, *,
               required: bool = False) -> Param:
    """A parameter that must be one of ``values``."""
    check = one_of(values)

    def parse(raw: str) -> str:
        message = check(raw)
        if message is not None:
            raise ValueError(message)
        return raw
    return Param(parse, default, required)


def symbol_param(*, required: bool = True) -> Param:
    """A market symbol parameter."""
    def parse(raw: str) -> str:
        if not SYMBOL.fullmatch(raw):
            raise ValueError(SYMBOL_HINT)
        return raw
    return Param(parse, None, required)


def timeframe_param(*, required: bool = True) -> Param:
    """A timeframe parameter."""
    return enum_param(TIMEFRAMES, required=required)


def parse_query(args: QueryArgs, params: Mapping[str, Param], *,
                message: str = "the query string is invalid",
                code: str = "invalid_query") -> dict[str, Any]:
    """Every declared parameter parsed (or its default), else one 400 listing each problem.

    Unknown and repeated parameters are problems too; an empty value counts as absent.
    """
    problems = Problems()
    values: dict[str, Any] = {}
    for name in sorted(set(args) - set(params)):
        problems.add(name, "unknown parameter")
    for name, param in params.items():
        given = args.getlist(name)
        if len(given) > 1:
            problems.add(name, "given more than once")
            continue
        raw = given[0] if given else ""
        if raw == "":
            if param.required:
                problems.add(name, "required")
            values[name] = param.default
            continue
        if len(raw) > MAX_QUERY_VALUE_CHARS:
            problems.add(name, f"longer than {MAX_QUERY_VALUE_CHARS} characters")
            continue
        try:
            values[name] = param.parse(raw)
        except ValueError as error:
            problems.add(name, str(error))
    problems.raise_if_any(message, code)
    return values


# ---- path parameters ----------------------------------------------------------------


def session_id(raw: str) -> str:
    """A session id from the path, in canonical lowercase form, or 404 (one rule for
    every session route: :func:`livesim.runner.lifecycle.canonical_session_id`)."""
    return canonical_session_id(raw)
