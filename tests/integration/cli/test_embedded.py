"""The embedded PostgreSQL: started by the app when DATABASE_URL is unset, stopped on exit.

These tests start the embedded server themselves (DATABASE_URL removed from the
child's environment), in a data folder of their own, whatever CI sets.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from livesim.db.embedded import embedded_server, pg_dir, server_pid, stop_server
from tests.support.processes import free_port


def postgres_processes(data_dir: Path) -> list[int]:
    """Every process whose command line names the data folder's pg directory."""
    needle = str(pg_dir(data_dir)).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def child_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return {**env, "LIVESIM_DATA_DIR": str(data_dir), **extra}


def test_serve_on_embedded_server_sigint_stops_app_and_postgres(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    process = subprocess.Popen(
        [sys.executable, "-m", "livesim", "serve"],
        env=child_env(data_dir, LIVESIM_AUTH="dev", LIVESIM_PORT=str(free_port())),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        for line in process.stdout:
            if "livesim is serving" in line or time.monotonic() > deadline:
                break
        assert server_pid(data_dir) is not None
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert stderr.count("Running on") == 1
    assert server_pid(data_dir) is None
    assert postgres_processes(data_dir) == []


def test_embedded_server_kept_while_another_process_uses_it(tmp_path: Path) -> None:
    # a second user (a live process holding a marker) keeps it; its exit ends it
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with embedded_server(tmp_path) as url:
            assert url.startswith("postgresql://")
            (tmp_path / "pg.users" / str(other.pid)).touch()
        assert server_pid(tmp_path) is not None
    finally:
        other.kill()
        other.wait()
    with embedded_server(tmp_path):
        pass  # the other user is dead: it no longer counts
    assert server_pid(tmp_path) is None
    assert postgres_processes(tmp_path) == []


def test_stop_server_without_server_is_none(tmp_path: Path) -> None:
    assert stop_server(tmp_path) is None


@pytest.mark.parametrize("command", [["candles", "import", "nope.csv", "--symbol", "X",
                                      "--timeframe", "1m"]])
def test_cli_import_missing_file_fails_before_postgres_starts(tmp_path: Path,
                                                              command: list[str]) -> None:
    data_dir = tmp_path / "data"
    result = subprocess.run([sys.executable, "-m", "livesim", *command], cwd=tmp_path,
                            env=child_env(data_dir), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert "cannot read 'nope.csv'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not pg_dir(data_dir).exists()
