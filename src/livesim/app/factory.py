"""Build the Quart app: blueprints, error rendering, and the services' lifetime."""

from __future__ import annotations

import trio
from quart_trio import QuartTrio

from livesim.app import apidocs, health, market, openapi, profiles, sessions, sse, tickets
from livesim.app.auth import build_authenticator
from livesim.app.errors import register_error_handlers
from livesim.app.limits import StreamSlots
from livesim.app.services import Services, run_services
from livesim.app.state import AppState, install
from livesim.app.ticketbook import build_ticket_book
from livesim.config import Settings


def create_app(settings: Settings, database_url: str, *, schema: str | None = None
               ) -> QuartTrio:
    """The app for ``settings``; its services start with the server (``before_serving``)."""
    app = QuartTrio("livesim", static_folder=None)  # an API: no /static route
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["JSON_SORT_KEYS"] = True
    register_error_handlers(app)
    for module in (health, market, profiles, sessions, sse, tickets, openapi, apidocs):
        app.register_blueprint(module.blueprint)
    state = AppState(settings, build_authenticator(settings),
                     build_ticket_book(settings.ticket_secret, settings.auth_mode),
                     StreamSlots(settings.max_streams_per_user))
    install(app, state)
    cancel_services = trio.CancelScope()

    async def run_until_shutdown(*, task_status: trio.TaskStatus[Services]) -> None:
        with cancel_services:
            await run_services(settings, database_url, state.health, schema=schema,
                               task_status=task_status)

    @app.before_serving
    async def start_services() -> None:
        state.started(await app.nursery.start(run_until_shutdown))

    @app.after_serving
    async def stop_services() -> None:
        # Runners' writes are shielded, so cancelling never leaves half a candle.
        cancel_services.cancel()

    return app
