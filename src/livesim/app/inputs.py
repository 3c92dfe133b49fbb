"""Request parts built from :mod:`livesim.app.contract` rules: JSON bodies, query strings
and headers, each reporting *all* its problems at once as ``details: [{field, message}]``,
so a client fixes its request in one round trip.

Unknown body fields and query parameters are errors, not silently ignored typos; a
repeated query parameter is an error; an empty value is checked like any other (so
``?format=`` is a 400, as the document says).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from livesim.app.contract import Rule, Schema, described, normalised
from livesim.config import Settings
from livesim.errors import Detail, InvalidInput

# A query value longer than this is never a valid livesim parameter.
MAX_QUERY_VALUE_CHARS = 256


# ---- bodies ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One body field: its rule, whether it is required, and what it means."""

    rule: Rule
    required: bool = False
    description: str = ""


class Problems:
    """Field problems gathered while checking one request."""

    def __init__(self) -> None:
        self.items: list[Detail] = []

    def add(self, field: str, message: str) -> None:
        """Record that ``field`` is wrong, and why."""
        self.items.append({"field": field, "message": message})

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self, message: str, code: str = "invalid_input") -> None:
        """Raise one :class:`InvalidInput` listing every problem, if there are any."""
        if self.items:
            raise InvalidInput(message, code=code, details=list(self.items))


@dataclass(frozen=True)
class Body:
    """A JSON object body: its fields, and pairs of which exactly one must be given.

    ``exclusive`` pairs (``("startMs", "start")``) are two spellings of one value:
    exactly one of each pair is required; they are the document's ``oneOf``.
    """

    name: str
    fields: Mapping[str, Field]
    exclusive: tuple[tuple[str, str], ...] = ()
    message: str = "the request body is invalid"
    code: str = "invalid_input"

    def problems(self, body: Mapping[str, Any], settings: Settings) -> Problems:
        """Unknown, missing and malformed fields, in a stable order."""
        problems = Problems()
        for name in sorted(set(body) - set(self.fields)):
            problems.add(name, "unknown field")
        paired = {name for pair in self.exclusive for name in pair}
        for first, second in self.exclusive:
            given = [name for name in (first, second) if name in body]
            if not given:
                problems.add(first, f"required (or {second})")
            elif len(given) == 2:
                problems.add(second, f"give {first} or {second}, not both")
        for name, spec in self.fields.items():
            if name not in body:
                if spec.required and name not in paired:
                    problems.add(name, "required")
                continue
            # an object rule may name the key at fault (config.fast), so a form can show
            # the problem next to that key's own input
            per_key = getattr(spec.rule, "key_problems", None)
            if per_key is not None:
                for key, message in per_key(body[name], settings):
                    problems.add(f"{name}.{key}" if key else name, message)
                continue
            message = spec.rule.check(body[name], settings)
            if message is not None:
                problems.add(name, message)
        return problems

    def parse(self, body: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
        """``body`` as a dict when every field passes, else one 400 listing each problem."""
        self.problems(body, settings).raise_if_any(self.message, self.code)
        return {name: normalised(self.fields[name].rule, value) for name, value in body.items()}

    def schema(self, settings: Settings) -> Schema:
        paired = {name for pair in self.exclusive for name in pair}
        out: Schema = {
            "type": "object", "additionalProperties": False,
            "properties": {name: _field_schema(spec, settings)
                           for name, spec in self.fields.items()},
            "required": [name for name, spec in self.fields.items()
                         if spec.required and name not in paired]}
        if self.exclusive:
            out["allOf"] = [{"oneOf": [{"required": [first]}, {"required": [second]}]}
                            for first, second in self.exclusive]
        return out


# ---- query strings and headers --------------------------------------------------------


class QueryArgs(Protocol):
    """What routes pass in: werkzeug's ``request.args`` (a MultiDict) fits."""

    def __iter__(self) -> Any: ...

    def getlist(self, key: str) -> list[str]: ...


@dataclass(frozen=True)
class Param:
    """One query parameter or header: its rule, default and meaning."""

    rule: Rule
    default: Any = None
    required: bool = False
    description: str = ""

    def parse(self, raw: str, settings: Settings) -> Any:
        """The value ``raw`` spells; raises ValueError with the reason."""
        if len(raw) > MAX_QUERY_VALUE_CHARS:
            raise ValueError(f"longer than {MAX_QUERY_VALUE_CHARS} characters")
        value = self.rule.from_text(raw)
        message = self.rule.check(value, settings)
        if message is not None:
            raise ValueError(message)
        return normalised(self.rule, value)


def parse_query(args: QueryArgs, params: Mapping[str, Param], settings: Settings, *,
                message: str = "the query string is invalid",
                code: str = "invalid_query", ignore: Iterable[str] = ()) -> dict[str, Any]:
    """Every declared parameter parsed (or its default), else one 400 listing each problem.

    Unknown and repeated parameters are problems too; an empty value is a value.
    ``ignore`` names parameters another layer reads (the stream's ``ticket``).
    """
    problems = Problems()
    values: dict[str, Any] = {}
    for name in sorted(set(args) - set(params) - set(ignore)):
        problems.add(name, "unknown parameter")
    for name, param in params.items():
        given = args.getlist(name)
        if len(given) > 1:
            problems.add(name, "given more than once")
            continue
        raw = given[0] if given else None
        if raw is None:  # an empty value is a value: the document does not allow it
            if param.required:
                problems.add(name, "required")
            values[name] = param.default
            continue
        try:
            values[name] = param.parse(raw, settings)
        except ValueError as error:
            problems.add(name, str(error))
    problems.raise_if_any(message, code)
    return values


def _field_schema(spec: Field, settings: Settings) -> Schema:
    schema = spec.rule.schema(settings)
    both = " ".join(part for part in (spec.description, schema.get("description", "")) if part)
    return described(schema, both)
