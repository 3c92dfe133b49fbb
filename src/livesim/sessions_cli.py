"""``livesim sessions create|list|show|control|export``: the HTTP API for scripts.

Every command prints JSON (``list`` a table unless ``--json``), except ``export``,
which writes CSV derived from the session's log: ``trades`` from its
``trade_closed`` events, ``equity`` from its ``equity`` events, in seq order.
Times given to ``create`` are ISO 8601 (UTC unless an offset is given) or epoch ms,
read by the same parser as ``candles synth``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator
from typing import Any, TextIO

import httpx

from livesim.client import ClientError, add_connection_arguments, checked, sync_client, unreachable
from livesim.config import Settings
from livesim.market.checks import iso
from livesim.market.commands import parse_time

ACTIONS = ("pause", "resume", "stop", "speed")
# the largest page GET .../events serves (app/sessions.py MAX_PAGE; not imported: the
# CLI is a client and must not pull in the server's web stack)
EVENTS_PAGE = 1_000
TRADE_COLUMNS = ("tradeId", "side", "qty", "entryTs", "entryTime", "entryPrice", "exitTs",
                 "exitTime", "exitPrice", "pnl", "commission")
EQUITY_COLUMNS = ("ts", "time", "equity", "cash", "positionQty", "unrealizedPnl",
                  "realizedPnl", "drawdownPct")


def add_parser(commands: Any) -> None:
    """Register ``sessions`` and its sub-commands on the ``livesim`` parser."""
    sessions = commands.add_parser("sessions", help="create, list, show, steer and export "
                                                    "sessions over the HTTP API")
    sub = sessions.add_subparsers(dest="sessions_command", required=True)
    create = sub.add_parser("create", help="create a session and print it")
    create.add_argument("--profile", required=True, help="profile slug, e.g. sma-cross")
    create.add_argument("--symbol", required=True)
    create.add_argument("--timeframe", required=True)
    create.add_argument("--start", required=True, help="ISO date/datetime (UTC) or epoch ms")
    create.add_argument("--end", required=True, help="ISO date/datetime (UTC) or epoch ms")
    create.add_argument("--speed", default="60", help='a multiplier, or "max" (default 60)')
    create.add_argument("--config", default=None, help="strategy overrides as JSON")
    create.add_argument("--gap-policy", choices=("fail", "skip"), default=None)
    create.add_argument("--idempotency-key", default=None)
    listing = sub.add_parser("list", help="your sessions, newest first")
    listing.add_argument("--json", action="store_true", help="print the API's JSON")
    show = sub.add_parser("show", help="one session: status, lastSeq, progress")
    control = sub.add_parser("control", help="pause, resume, stop or change speed")
    export = sub.add_parser("export", help="trades or equity as CSV, from the session's log")
    for command in (show, control, export):
        command.add_argument("session_id")
    control.add_argument("action", choices=ACTIONS)
    control.add_argument("--speed", default=None, help='with "speed": a multiplier or "max"')
    export.add_argument("what", choices=("trades", "equity"))
    export.add_argument("--out", default="-", help="a file (default: standard output)")
    for command in (create, listing, show, control, export):
        add_connection_arguments(command)


def run(args: argparse.Namespace, settings: Settings) -> None:
    """Run one ``sessions`` sub-command.

    Raises:
        ClientError: the API refused it or could not be reached.
        InvalidInput: a bad ``--start``/``--end``/``--config``.
    """
    with sync_client(args, settings) as client:
        try:
            _COMMANDS[args.sessions_command](client, args)
        except httpx.TransportError as error:
            raise unreachable(str(client.base_url), error) from None


def _speed(text: str) -> float | str:
    if text == "max":
        return text
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        raise ClientError(f'--speed must be a number or "max", not {text!r}') from None


def _create(client: httpx.Client, args: argparse.Namespace) -> None:
    body: dict[str, Any] = {"profileSlug": args.profile, "symbol": args.symbol,
                            "timeframe": args.timeframe, "startMs": parse_time(args.start),
                            "endMs": parse_time(args.end), "speed": _speed(args.speed)}
    if args.config is not None:
        try:
            body["config"] = json.loads(args.config)
        except ValueError as error:
            raise ClientError(f"--config is not JSON: {error}") from None
    if args.gap_policy:
        body["gapPolicy"] = args.gap_policy
    headers = {"Idempotency-Key": args.idempotency_key} if args.idempotency_key else {}
    _print(checked(client.post("/api/sim/sessions", json=body, headers=headers)))


def _list(client: httpx.Client, args: argparse.Namespace) -> None:
    found = checked(client.get("/api/sim/sessions"))
    if args.json:
        _print(found)
        return
    print(f"{'id':<36}  {'status':<8}  {'profile':<17}  {'market':<18}  {'progress':>8}  start")
    for session in found["sessions"]:
        market = f"{session['symbol']} {session['timeframe']}"
        print(f"{session['id']:<36}  {session['status']:<8}  {session['profileSlug']:<17}  "
              f"{market:<18}  {session['progress']:>8.1%}  {iso(session['startMs'])}")


def _show(client: httpx.Client, args: argparse.Namespace) -> None:
    _print(checked(client.get(f"/api/sim/sessions/{args.session_id}")))


def _control(client: httpx.Client, args: argparse.Namespace) -> None:
    body: dict[str, Any] = {"action": args.action}
    if args.action == "speed":
        if args.speed is None:
            raise ClientError('the speed action needs --speed (a multiplier or "max")')
        body["speed"] = _speed(args.speed)
    _print(checked(client.post(f"/api/sim/sessions/{args.session_id}/control", json=body)))


def _export(client: httpx.Client, args: argparse.Namespace) -> None:
    rows = (trade_row(event["payload"]) if args.what == "trades" else equity_row(event)
            for event in _events(client, args.session_id,
                                 "trade_closed" if args.what == "trades" else "equity"))
    columns = TRADE_COLUMNS if args.what == "trades" else EQUITY_COLUMNS
    if args.out == "-":
        write_csv(sys.stdout, columns, rows)
        return
    with open(args.out, "w", newline="") as file:
        write_csv(file, columns, rows)


def _events(client: httpx.Client, session_id: str, kind: str) -> Iterator[dict[str, Any]]:
    from_seq = 1
    while True:
        page = checked(client.get(f"/api/sim/sessions/{session_id}/events",
                                  params={"fromSeq": from_seq, "limit": EVENTS_PAGE}))
        yield from (event for event in page["events"] if event["type"] == kind)
        if not page["hasMore"]:
            return
        from_seq = page["nextSeq"]


def trade_row(payload: dict[str, Any]) -> dict[str, Any]:
    """One CSV row of a ``trade_closed`` payload, with ISO times beside the epoch ms."""
    return {**{key: payload.get(key) for key in TRADE_COLUMNS},
            "entryTime": iso(payload["entryTs"]), "exitTime": iso(payload["exitTs"])}


def equity_row(event: dict[str, Any]) -> dict[str, Any]:
    """One CSV row of an ``equity`` event (its ts is the candle's)."""
    payload = event["payload"]
    return {**{key: payload.get(key) for key in EQUITY_COLUMNS},
            "ts": event["ts"], "time": iso(event["ts"])}


def write_csv(out: TextIO, columns: tuple[str, ...], rows: Iterator[dict[str, Any]]) -> None:
    """A header line, then one line per row (floats as Python writes them: exact)."""
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def _print(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=True))


_COMMANDS = {"create": _create, "list": _list, "show": _show, "control": _control,
             "export": _export}
