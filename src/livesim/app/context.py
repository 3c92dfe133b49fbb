"""Where route handlers find the process's services."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from quart import current_app

if TYPE_CHECKING:
    from livesim.app.services import Services

EXTENSION = "livesim"


def services() -> Services:
    """The running services of this app (set in ``before_serving``)."""
    return cast("Services", current_app.extensions[EXTENSION])
