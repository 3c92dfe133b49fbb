"""The API tests' real server, for the examples' tests."""

from __future__ import annotations

from tests.api.conftest import client, server, settings

__all__ = ["client", "server", "settings"]
