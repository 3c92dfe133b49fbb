"""Order routes: place, cancel, flatten, and list a session's orders."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from livesim.app import api
from livesim.app.auth import require_user
from livesim.app.session_view import get_user_session
from livesim.app.state import app_state
from livesim.runner.orders import Recorded, orders_of, record_input
from livesim.sim.inputs import CancelOrder, ClosePosition, SubmitOrder

blueprint = Blueprint("orders", __name__)


def _accepted(recorded: Recorded) -> Response:
    response = jsonify(recorded.to_json())
    response.status_code = 202 if recorded.new else 200
    return response


@api.SUBMIT_ORDER.route(blueprint)
async def submit(session_id: str) -> Response:
    user = await require_user()
    state = app_state()
    svc = state.services
    body = await api.SUBMIT_ORDER.json_body(state.settings)
    session = await get_user_session(svc.db, user, session_id)
    return _accepted(await record_input(svc.db, svc.supervisor, session, SubmitOrder.kind,
                                       body))


@api.LIST_ORDERS.route(blueprint)
async def list_orders(session_id: str) -> Response:
    user = await require_user()
    state = app_state()
    api.LIST_ORDERS.query_values(state.settings)
    await get_user_session(state.services.db, user, session_id)
    return jsonify(await orders_of(state.services.db, session_id))


@api.CANCEL_ORDER.route(blueprint)
async def cancel(session_id: str, client_order_id: str) -> Response:
    user = await require_user()
    state = app_state()
    svc = state.services
    client_order_id = api.CANCEL_ORDER.path_value("client_order_id", client_order_id,
                                                  state.settings)
    session = await get_user_session(svc.db, user, session_id)
    return _accepted(await record_input(svc.db, svc.supervisor, session, CancelOrder.kind,
                                       {"clientOrderId": client_order_id}))


@api.CLOSE_POSITION.route(blueprint)
async def close_position(session_id: str) -> Response:
    user = await require_user()
    state = app_state()
    svc = state.services
    await api.CLOSE_POSITION.json_body(state.settings)
    session = await get_user_session(svc.db, user, session_id)
    return _accepted(await record_input(svc.db, svc.supervisor, session, ClosePosition.kind,
                                       {}))
