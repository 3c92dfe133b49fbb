"""A PostgreSQL server of our own when no DATABASE_URL is given (the zero-config run).

pgserver ships PostgreSQL 16 inside its wheel: the first start initialises the data
folder (~1 s), later starts take ~0.1 s, and a server left by a killed process is
re-attached.  The call blocks, so call it before ``trio.run`` or from a thread.
"""

from __future__ import annotations

import warnings
from pathlib import Path


def embedded_database_url(data_dir: Path) -> str:
    """Start (or attach to) the embedded server in ``data_dir/pg``; return its URL."""
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI, containers)
        warnings.simplefilter("ignore")
        import pgserver  # imported here: only the zero-config path needs it

    pg_dir = data_dir / "pg"
    pg_dir.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None keeps the server running after this process exits, so a
    # restarted process (or the test suite) re-attaches in milliseconds.
    server = pgserver.get_server(pg_dir, cleanup_mode=None)  # type: ignore[attr-defined]
    uri: str = server.get_uri()
    return uri
