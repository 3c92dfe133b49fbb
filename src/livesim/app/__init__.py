"""The HTTP edge: routes, SSE framing and auth.  No simulation logic lives here."""

from __future__ import annotations

from livesim.app.factory import create_app

__all__ = ["create_app"]
