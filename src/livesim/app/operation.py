"""One route's contract: :class:`Operation`, and the session id's one canonical form.

An operation declares its path, query, headers, body and responses (with the rules of
:mod:`livesim.app.contract`); ``@OPERATION.route(blueprint)`` registers the handler
under it, and the handler reads its input through the same object
(:meth:`Operation.query_values`, :meth:`Operation.json_body`, :meth:`Operation.header`),
so a route cannot accept what its declaration does not document.

The session id is made canonical once, at the edge: the ``session`` path converter
matches an 8-4-4-4-12 hex UUID in any case and hands the handler its lowercase form, so
every session route (the stream's fan-out subscription included) sees one spelling of
an id.  Anything else under a session path matches no route: a 404.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from quart import Blueprint, request
from werkzeug.routing import BaseConverter

from livesim.app.contract import (
    Reply,
    Shape,
    String,
)
from livesim.app.inputs import (
    Body,
    Param,
    Problems,
    parse_query,
)
from livesim.app.validation import parse_json_object
from livesim.config import Settings

View = TypeVar("View", bound=Callable[..., Awaitable[Any]])
OPERATION_ATTR = "__livesim_operation__"
# Used with fullmatch: uuid.UUID would also take braces, URNs and bare hex, giving one
# session several URLs.
SESSION_ID_PATTERN = r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}"
SESSION_ID = String(max_length=36, min_length=36, format="uuid",
                    description="The session's id (any case; answers use lower case).")


class SessionIdConverter(BaseConverter):
    """``<session:session_id>``: a session id in any case, handed on in lower case."""

    regex = SESSION_ID_PATTERN

    def to_python(self, value: str) -> str:
        return value.lower()


@dataclass(frozen=True)
class Operation:
    """Everything one route accepts and answers; the OpenAPI document is built from it.

    ``path`` is in OpenAPI form (``/api/sim/sessions/{session_id}``); a ``{session_id}``
    segment uses the canonicalising converter.  Unless ``public``, the usual
    400/401/503 answers (and 404 on a session path) are documented for it.
    """

    method: str
    path: str
    summary: str
    responses: Mapping[int, Reply]
    description: str = ""
    query: Mapping[str, Param] = field(default_factory=dict)
    headers: Mapping[str, Param] = field(default_factory=dict)
    body: Body | None = None
    raw_body: Mapping[str, Shape] = field(default_factory=dict)  # media type -> shape
    body_required: bool = True
    public: bool = False
    # path parameters other than {session_id}, checked by path_value
    path_params: Mapping[str, Param] = field(default_factory=dict)

    @property
    def rule(self) -> str:
        """The path in werkzeug's form."""
        rule = self.path.replace("{session_id}", "<session:session_id>")
        for name in self.path_params:
            rule = rule.replace("{" + name + "}", f"<{name}>")
        return rule

    def path_value(self, name: str, raw: str, settings: Settings) -> Any:
        """A declared path parameter's value, or 400 naming it."""
        try:
            return self.path_params[name].parse(raw, settings)
        except ValueError as error:
            problems = Problems()
            problems.add(name, str(error))
            problems.raise_if_any(f"the {name} in the path is invalid", "invalid_path")
        return None  # unreachable: raise_if_any raised

    def route(self, blueprint: Blueprint) -> Callable[[View], View]:
        """Register the decorated handler as this operation on ``blueprint``."""
        def register(view: View) -> View:
            blueprint.record_once(_install_converter)
            setattr(view, OPERATION_ATTR, self)
            blueprint.add_url_rule(self.rule, view_func=view, methods=[self.method.upper()])
            return view
        return register

    def query_values(self, settings: Settings, *, ignore: tuple[str, ...] = ()
                     ) -> dict[str, Any]:
        """The request's query string parsed by this operation's parameters (or 400)."""
        return parse_query(request.args, self.query, settings, ignore=ignore)

    def header(self, name: str, settings: Settings) -> Any:
        """A declared header's value (its default when absent), or 400 naming it."""
        param = self.headers[name]
        raw = request.headers.get(name)
        if raw is None:
            return param.default
        try:
            return param.parse(raw, settings)
        except ValueError as error:
            problems = Problems()
            problems.add(name, str(error))
            problems.raise_if_any(f"the {name} header is invalid", "invalid_header")
        return None  # unreachable: raise_if_any raised

    async def json_body(self, settings: Settings) -> dict[str, Any]:
        """The request's JSON object, checked against this operation's body (or 400).

        NaN, duplicate keys and deep nesting are refused first (the bare parser 500s on
        the last); an operation whose body is optional takes an empty body as ``{}``.
        """
        assert self.body is not None, f"{self.method} {self.path} declares no JSON body"
        raw = await request.get_data(as_text=False)
        if not self.body_required and not raw.strip():
            return {}
        return self.body.parse(parse_json_object(raw), settings)


def _install_converter(state: Any) -> None:
    state.app.url_map.converters.setdefault("session", SessionIdConverter)


def operation_of(view: Callable[..., Any]) -> Operation | None:
    """The operation a handler was registered as, if any."""
    found = getattr(view, OPERATION_ATTR, None)
    return found if isinstance(found, Operation) else None
