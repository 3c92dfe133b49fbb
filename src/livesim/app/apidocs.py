"""``/docs``: the OpenAPI document rendered as one self-contained HTML page.

No script and nothing fetched from a CDN: the page works offline and under a strict
Content-Security-Policy, and it cannot drift from ``/openapi.json`` because it is
rendered from the same document on each request.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from quart import Blueprint, Response

from livesim.app import api
from livesim.app.openapi import current_document

blueprint = Blueprint("apidocs", __name__)

_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h2{border-bottom:1px solid #ddd;margin-top:2.5rem}
.op{border:1px solid #ddd;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}
.m{font:bold 13px monospace;padding:2px 6px;border-radius:4px;color:#fff;background:#555}
.get{background:#2a7}.post{background:#27a}
code,pre{font:13px monospace;background:#f6f6f6}pre{padding:.5rem;overflow:auto}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:2px 8px;text-align:left}
"""


def _resolve(schema: Any, schemas: dict[str, Any]) -> Any:
    if isinstance(schema, dict) and "$ref" in schema:
        return {"$ref": schema["$ref"], **schemas[schema["$ref"].rsplit("/", 1)[-1]]}
    return schema


def _operation(path: str, method: str, op: dict[str, Any], schemas: dict[str, Any]) -> str:
    parts = [f'<div class="op"><p><span class="m {method}">{method.upper()}</span> '
             f"<code>{escape(path)}</code> {escape(op.get('summary', ''))}</p>"]
    if op.get("description"):
        parts.append(f"<p>{escape(op['description'])}</p>")
    if op.get("security") == []:
        parts.append("<p><em>No credentials needed.</em></p>")
    params = op.get("parameters", [])
    if params:
        rows = "".join(
            f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p['in'])}</td>"
            f"<td>{'yes' if p.get('required') else ''}</td>"
            f"<td><code>{escape(json.dumps(p.get('schema', {})))}</code></td>"
            f"<td>{escape(p.get('description', ''))}</td></tr>" for p in params)
        parts.append("<table><tr><th>parameter</th><th>in</th><th>required</th>"
                     f"<th>schema</th><th>meaning</th></tr>{rows}</table>")
    body = op.get("requestBody", {}).get("content", {})
    for media_type, content in body.items():
        shown = json.dumps(_resolve(content.get("schema", {}), schemas), indent=2)
        parts.append(f"<p>Body (<code>{escape(media_type)}</code>):</p>"
                     f"<pre>{escape(shown)}</pre>")
    responses = "".join(f"<tr><td>{escape(code)}</td><td>{escape(r.get('description', ''))}"
                        "</td></tr>" for code, r in op.get("responses", {}).items())
    parts.append(f"<table><tr><th>status</th><th>meaning</th></tr>{responses}</table></div>")
    return "".join(parts)


def render_docs(document: dict[str, Any]) -> str:
    """The HTML page for an OpenAPI ``document``."""
    schemas = document.get("components", {}).get("schemas", {})
    info = document["info"]
    sections = [f"<h1>{escape(info['title'])} API {escape(info['version'])}</h1>",
                f"<p>{escape(info.get('description', ''))} Machine-readable: "
                '<a href="/openapi.json">/openapi.json</a>. Errors are '
                "<code>{error: {code, message, details?}}</code>.</p>",
                "<h2>Authentication</h2>"]
    for name, scheme in document["components"]["securitySchemes"].items():
        sections.append(f"<p><b>{escape(name)}</b>: {escape(scheme.get('description', ''))}"
                        "</p>")
    sections.append("<h2>Operations</h2>")
    for path, item in document["paths"].items():
        for method, op in item.items():
            sections.append(_operation(path, method, op, schemas))
    sections.append("<h2>Schemas</h2>")
    for name, schema in schemas.items():
        sections.append(f"<h3 id='{escape(name)}'>{escape(name)}</h3>"
                        f"<pre>{escape(json.dumps(schema, indent=2))}</pre>")
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{escape(info['title'])} API</title><style>{_STYLE}</style></head>"
            f"<body>{''.join(sections)}</body></html>")


@api.DOCS.route(blueprint)
async def docs() -> Response:
    page = render_docs(current_document())
    return Response(page, mimetype="text/html", headers={
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})
