"""The app's one typed state: what every request handler may reach, in one object.

Built by :func:`livesim.app.factory.create_app` (settings, authenticator, stream slots,
ticket book) and completed in ``before_serving`` with the long-lived services (database,
fan-out, supervisor), which only exist while the server runs.  Handlers call
:func:`app_state`; nothing else is kept in ``app.extensions``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, cast

from quart import Quart, current_app

from livesim.app.limits import StreamSlots
from livesim.app.services import ServiceHealth, Services
from livesim.app.ticketbook import TicketBook
from livesim.config import Settings

_KEY = "livesim"


class Authenticator(Protocol):
    """Turns a request's credentials into a user id, or raises ``Unauthorized``."""

    async def authenticate(self, authorization: str | None, dev_user: str | None) -> str: ...


@dataclass
class AppState:
    """Everything the routes use; ``services`` is set once the server has started."""

    settings: Settings
    authenticator: Authenticator
    tickets: TicketBook
    streams: StreamSlots
    # whether the background services run (crash-only: see app/services.py)
    health: ServiceHealth = field(default_factory=ServiceHealth)
    _services: Services | None = field(default=None, repr=False)

    @property
    def services(self) -> Services:
        """The running services (database, fan-out, supervisor)."""
        assert self._services is not None, "the services start in before_serving"
        return self._services

    def started(self, services: Services) -> None:
        """Record the services once they run."""
        self._services = services


def install(app: Quart, state: AppState) -> None:
    """Make ``state`` the state of ``app``."""
    app.extensions[_KEY] = state


def state_of(app: Quart) -> AppState:
    """The state of ``app`` (tests reach the services of a served app through it)."""
    return cast(AppState, app.extensions[_KEY])


def app_state() -> AppState:
    """The state of the app serving this request."""
    return state_of(current_app)
