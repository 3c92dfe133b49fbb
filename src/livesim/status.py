"""A session's status: its values, who may change it, and to what (one table).

Like h11's state machine, transitions are data.  Each transition has one owner:

- a **client** (the control route) moves a live session between ``running`` and
  ``paused`` and may *request* a stop (``stop_requested``); it never writes a
  terminal status;
- the **runner** that owns the session (see :mod:`livesim.runner.session`) writes
  every terminal status, and only together with its terminal event, in one
  statement fenced by its ownership epoch.

``CLIENT_TRANSITIONS[status][action]`` gives the status a client action leads to; a
repeated action is a no-op (same status back), a missing key raises
:class:`~livesim.errors.Conflict` and changes nothing.  ``stop`` keeps the status: the
runner ends the session at its next candle boundary.
"""

from __future__ import annotations

import enum

from livesim.errors import Conflict


class SessionStatus(enum.StrEnum):
    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    FINISHED = "finished"
    FAILED = "failed"


class Action(enum.StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    SPEED = "speed"
    STEP = "step"
    SEEK = "seek"


S, A = SessionStatus, Action
LIVE = frozenset({S.CREATED, S.RUNNING, S.PAUSED})
TERMINAL = frozenset({S.STOPPED, S.FINISHED, S.FAILED})
# For SQL: `status = ANY(:live)`, so no query restates the list.
LIVE_VALUES = sorted(s.value for s in LIVE)

# step and seek release candles and leave the session paused, as a replay's
# "next bar" and "jump to" buttons do.
CLIENT_TRANSITIONS: dict[SessionStatus, dict[Action, SessionStatus]] = {
    S.CREATED: {A.PAUSE: S.PAUSED, A.RESUME: S.CREATED, A.STOP: S.CREATED, A.SPEED: S.CREATED,
                A.STEP: S.PAUSED, A.SEEK: S.PAUSED},
    S.RUNNING: {A.PAUSE: S.PAUSED, A.RESUME: S.RUNNING, A.STOP: S.RUNNING, A.SPEED: S.RUNNING,
                A.STEP: S.PAUSED, A.SEEK: S.PAUSED},
    S.PAUSED: {A.PAUSE: S.PAUSED, A.RESUME: S.RUNNING, A.STOP: S.PAUSED, A.SPEED: S.PAUSED,
               A.STEP: S.PAUSED, A.SEEK: S.PAUSED},
    # stopping a stopped session is a no-op, like any repeated action
    S.STOPPED: {A.STOP: S.STOPPED},
    S.FINISHED: {},
    S.FAILED: {},
}

# The status a runner writes with each terminal event type.
TERMINAL_STATUS_OF_EVENT = {
    "session_finished": S.FINISHED,
    "session_stopped": S.STOPPED,
    "session_failed": S.FAILED,
}

_WHY = {
    S.STOPPED: "it was stopped",
    S.FINISHED: "it has finished",
    S.FAILED: "it failed",
}


def next_status(status: SessionStatus, action: Action, *, stop_requested: bool = False
                ) -> SessionStatus:
    """The status after a client's ``action``; raises ``Conflict`` when it makes no sense.

    A session whose stop was requested is treated as stopping: only ``stop`` (a no-op)
    is still accepted.
    """
    if stop_requested and action is not Action.STOP:
        raise Conflict(f"cannot {action.value} this session: it is stopping",
                       code="invalid_transition",
                       details=[{"field": "action",
                                 "message": f"cannot {action.value} a stopping session"}])
    try:
        return CLIENT_TRANSITIONS[status][action]
    except KeyError:
        why = _WHY.get(status, f"it is {status.value}")
        raise Conflict(f"cannot {action.value} this session: {why}",
                       code="invalid_transition",
                       details=[{"field": "action",
                                 "message": f"cannot {action.value} when {status.value}"}]
                       ) from None
