"""The OpenAPI 3.1 document of the whole HTTP API, served at ``/openapi.json``.

Generated, not written: it walks the routes the app serves and renders the
:class:`~livesim.app.operation.Operation` each handler was registered as (declared in
:mod:`livesim.app.api`).  A route registered without an operation is left out, and the
contract test fails on it.
"""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Quart, Response, current_app, jsonify

from livesim.app import api
from livesim.app.contract import Reply, Schema, shape
from livesim.app.operation import Operation, operation_of
from livesim.app.state import app_state
from livesim.config import Settings

blueprint = Blueprint("openapi", __name__)

TITLE = "livesim"
VERSION = "0.1.0"
_METHODS = ("get", "post", "put", "patch", "delete")


def _error(description: str) -> Reply:
    return Reply(description, api.ERROR)


def _common_errors(operation: Operation) -> dict[int, Reply]:
    if operation.public:
        return {}
    cross = "; ".join(f"{code}: {why}" for code, why in api.CROSS_FIELD_CODES.items())
    errors = {400: _error("Invalid input; `details` lists each field's problem. Rules "
                          f"across fields: {cross}."),
              401: _error("Missing or invalid credentials."),
              503: _error("The database or the OIDC issuer is unreachable.")}
    if "{session_id}" in operation.path:
        errors[404] = _error("No such session for this user (another user's is a 404 too).")
    return errors


def _reply(reply: Reply, settings: Settings) -> Schema:
    out: Schema = {"description": reply.description}
    if reply.body is not None:
        out["content"] = {reply.media_type: {"schema": shape(reply.body, settings)}}
        for media_type in reply.alternatives:
            out["content"][media_type] = {"schema": {"type": "string"}}
    if reply.headers:
        out["headers"] = {name: {"schema": {"type": "string"}} for name in reply.headers}
    return out


def operation_document(operation: Operation, settings: Settings) -> Schema:
    """The OpenAPI operation object of ``operation``."""
    out: Schema = {"summary": operation.summary}
    if operation.description:
        out["description"] = operation.description
    if operation.public:
        out["security"] = []
    parameters: list[Schema] = []
    if "{session_id}" in operation.path:
        parameters.append({"name": "session_id", "in": "path", "required": True,
                           "schema": api.SESSION_ID_PARAM.schema(settings)})
    for name, param in operation.path_params.items():
        parameters.append({"name": name, "in": "path", "required": True,
                           "schema": param.rule.schema(settings),
                           "description": param.description})
    for where, params in (("query", operation.query), ("header", operation.headers)):
        for name, param in params.items():
            item: Schema = {"name": name, "in": where, "required": param.required,
                            "schema": param.rule.schema(settings)}
            if param.description:
                item["description"] = param.description
            parameters.append(item)
    if parameters:
        out["parameters"] = parameters
    if operation.body is not None:
        out["requestBody"] = {"required": operation.body_required, "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/"
                                                    f"{operation.body.name}"}}}}
    elif operation.raw_body:
        out["requestBody"] = {"required": operation.body_required, "content": {
            media: {"schema": body.schema(settings)}
            for media, body in operation.raw_body.items()}}
    replies = {**operation.responses, **_common_errors(operation)}
    out["responses"] = {str(status): _reply(reply, settings)
                        for status, reply in sorted(replies.items())}
    return out


def app_operations(app: Quart) -> list[Operation]:
    """The operations ``app`` serves, in registration order."""
    found: list[Operation] = []
    for rule in app.url_map.iter_rules():
        operation = operation_of(app.view_functions[rule.endpoint])
        if operation is not None and operation not in found:
            found.append(operation)
    return found


def build_document(app: Quart, settings: Settings) -> Schema:
    """The OpenAPI document of the operations ``app`` serves, under ``settings``."""
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Schema] = {name: build(settings)
                                  for name, build in api.COMPONENTS.items()}
    for operation in app_operations(app):
        paths.setdefault(operation.path, {})[operation.method] = operation_document(
            operation, settings)
        if operation.body is not None:
            schemas[operation.body.name] = operation.body.schema(settings)
    for item in paths.values():  # a stable method order within each path
        ordered = {method: item[method] for method in _METHODS if method in item}
        item.clear()
        item.update(ordered)
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION,
                 "description": "Replay candles as a live feed; run a strategy; stream the "
                                "session's event log. See /docs."},
        "security": [{"bearer": []}, {"devUser": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                           "description": "An OIDC access token (LIVESIM_AUTH=oidc); the "
                                          "user is its sub."},
                "devUser": {"type": "apiKey", "in": "header", "name": "X-Dev-User",
                            "description": "Local dev mode only (LIVESIM_AUTH=dev)."}}},
    }


def current_document() -> Schema:
    """The document of the running app."""
    return build_document(current_app, app_state().settings)


@api.OPENAPI.route(blueprint)
async def openapi_json() -> Response:
    return jsonify(current_document())
