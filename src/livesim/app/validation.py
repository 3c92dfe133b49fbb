"""The JSON pre-checks every body goes through before its declaration checks it.

A JSON body is one object; ``NaN``/``Infinity``, duplicate keys, invalid UTF-8 and
pathological nesting are refused (each has bitten a JSON API somewhere: NaN slips past
range checks, a duplicate key means two parsers see two different requests).  What
the fields may hold is declared in :mod:`livesim.app.api` and checked by
:mod:`livesim.app.contract`.
"""

from __future__ import annotations

import json
from typing import Any

from livesim.errors import InvalidInput

# Nesting deeper than this is an attack, not a strategy config.
MAX_JSON_DEPTH = 32
# The largest seq a client may name (fromSeq): far past any log, well inside bigint.
MAX_SEQ = 2**62


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
