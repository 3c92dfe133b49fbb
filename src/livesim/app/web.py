"""The replay desk: serve the page built from ``web/`` (``just web``) and its config.

``/``, ``/sessions/<id>`` and ``/auth/callback`` all answer the page's ``index.html``
(the page routes itself), ``/assets/...`` the bundle's files.  Without a built bundle
the API works as ever and ``/`` says how to build the page.  ``/api/web-config`` tells
the page how to sign in; it holds nothing secret (the page is a public OIDC client).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from quart import Blueprint, Response, current_app, jsonify, send_from_directory
from werkzeug.exceptions import NotFound as FileNotFound

from livesim.app import api
from livesim.app.state import app_state
from livesim.config import PROJECT_ROOT
from livesim.errors import NotFound

blueprint = Blueprint("web", __name__)

# Where `npm run build` in web/ writes the bundle (git-ignored); tests may point elsewhere.
WEB_DIST = PROJECT_ROOT / "web" / "dist"
WEB_DIST_KEY = "LIVESIM_WEB_DIST"
# Vite names assets by content hash, so a year of caching is safe.
ASSET_MAX_AGE_S = 365 * 24 * 3600

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>livesim</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>livesim</h1>
<p>The API is up (<a href="/docs">/docs</a>), but the page is not built.</p>
<p>Build it once with <code>just web</code>
(that is <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>), then reload.</p>
</body></html>
"""


def dist_dir() -> Path:
    """The bundle's folder for the running app."""
    return Path(current_app.config.get(WEB_DIST_KEY) or WEB_DIST)


def _content_security_policy() -> str:
    # Everything from this origin; the OIDC issuer only for sign-in calls (token, keys).
    settings = app_state().settings
    issuer = settings.oidc_issuer
    extra = ""
    if issuer and settings.auth_mode == "oidc":
        parts = urlsplit(issuer)
        extra = f" {parts.scheme}://{parts.netloc}"
    return (f"default-src 'self'; connect-src 'self'{extra}; frame-src 'self'{extra}; "
            "img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
            "object-src 'none'; base-uri 'self'; frame-ancestors 'none'")


async def _page() -> Response:
    index = dist_dir() / "index.html"
    if not index.is_file():
        response = Response(NOT_BUILT, mimetype="text/html")
    else:
        response = Response(index.read_bytes(), mimetype="text/html")
        response.headers["Content-Security-Policy"] = _content_security_policy()
    response.headers["Cache-Control"] = "no-cache"
    return response


@api.INDEX_PAGE.route(blueprint)
async def index() -> Response:
    return await _page()


@api.SESSION_PAGE.route(blueprint)
async def session_page(session_id: str) -> Response:
    return await _page()  # a malformed id matches no route: a 404


@api.AUTH_CALLBACK_PAGE.route(blueprint)
async def auth_callback() -> Response:
    return await _page()


@api.ASSET.route(blueprint)
async def asset(filename: str) -> Response:
    filename = api.ASSET.path_value("filename", filename, app_state().settings)
    try:
        response: Response = await send_from_directory(dist_dir() / "assets", filename)
    except FileNotFound:
        raise NotFound("no such asset", code="not_found") from None
    response.headers["Cache-Control"] = f"public, max-age={ASSET_MAX_AGE_S}, immutable"
    return response


@api.WEB_CONFIG.route(blueprint)
async def web_config() -> Response:
    settings = app_state().settings
    oidc = settings.auth_mode == "oidc"
    return jsonify({
        "authMode": settings.auth_mode,
        "oidcIssuer": settings.oidc_issuer if oidc else None,
        "oidcClientId": settings.oidc_client_id if oidc else None,
        "maxSpeed": settings.max_speed,
        "maxBarsPerSecond": settings.max_bars_per_second,
    })
