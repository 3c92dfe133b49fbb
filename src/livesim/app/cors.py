"""CORS for front ends served from other origins: off unless ``LIVESIM_CORS_ORIGINS`` is set.

quart-cors does the protocol (preflight answers, ``Vary: Origin``, echoing only an
allowed origin); this module only says what livesim allows.  No credentials mode: the
API authenticates with headers (``Authorization``, ``X-Dev-User``), never cookies.
"""

from __future__ import annotations

from quart_cors import cors
from quart_trio import QuartTrio

from livesim.config import Settings

ALLOW_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID",
                 "X-Dev-User")
ALLOW_METHODS = ("GET", "POST", "DELETE")
EXPOSE_HEADERS = ("Retry-After", "Content-Disposition", "WWW-Authenticate")
PREFLIGHT_MAX_AGE_S = 600


def apply_cors(app: QuartTrio, settings: Settings) -> None:
    """Answer cross-origin requests from ``settings.cors_origins``; nothing when empty."""
    if not settings.cors_origins:
        return
    cors(app, allow_origin=list(settings.cors_origins), allow_headers=list(ALLOW_HEADERS),
         allow_methods=list(ALLOW_METHODS), expose_headers=list(EXPOSE_HEADERS),
         max_age=PREFLIGHT_MAX_AGE_S)
