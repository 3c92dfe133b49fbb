"""What the terminal commands (``watch``, ``sessions``) share to talk to the HTTP API.

The same two auth modes as the server: a bearer access token (``--token`` or
``LIVESIM_TOKEN``; oidc mode) or, without one, the ``X-Dev-User`` header (``--user``,
dev mode).  API errors are shown as one line plus their details, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

import httpx

from livesim.config import Settings

TOKEN_ENV = "LIVESIM_TOKEN"
DEFAULT_USER = "alice"
TIMEOUT_S = 30.0


class ClientError(Exception):
    """The API refused a request, or could not be reached; the message says which."""


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """``--url``, ``--user`` and ``--token``, the same on every client command."""
    parser.add_argument("--url", default=None,
                        help="server URL (default: http://LIVESIM_HOST:LIVESIM_PORT)")
    parser.add_argument("--user", default=DEFAULT_USER,
                        help=f"X-Dev-User in dev auth mode (default {DEFAULT_USER})")
    parser.add_argument("--token", default=None,
                        help=f"bearer access token in oidc mode (default ${TOKEN_ENV})")


def base_url(args: argparse.Namespace, settings: Settings) -> str:
    """The server URL from ``--url`` or the serving settings."""
    url: str = args.url or f"http://{settings.host}:{settings.port}"
    return url.rstrip("/")


def auth_headers(args: argparse.Namespace) -> dict[str, str]:
    """A bearer token when there is one (argument, then environment), else the dev user."""
    token = args.token or os.environ.get(TOKEN_ENV)
    return {"Authorization": f"Bearer {token}"} if token else {"X-Dev-User": args.user}


def sync_client(args: argparse.Namespace, settings: Settings) -> httpx.Client:
    """A blocking client for one-shot commands."""
    return httpx.Client(base_url=base_url(args, settings), headers=auth_headers(args),
                        timeout=TIMEOUT_S)


def checked(response: httpx.Response) -> Any:
    """The JSON of a 2xx answer; otherwise :class:`ClientError` with the API's error."""
    if response.is_success:
        return response.json() if response.content else None
    raise ClientError(describe_error(response))


def describe_error(response: httpx.Response) -> str:
    """``<status> <code>: <message>`` and the details, from the API's error body."""
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return f"{response.status_code}: {response.text[:200]}"
    details = error.get("details")
    shown = f"\n{json.dumps(details, indent=2)}" if details else ""
    return f"{response.status_code} {error.get('code')}: {error.get('message')}{shown}"


def unreachable(url: str, error: httpx.TransportError) -> ClientError:
    """The error for a server that does not answer."""
    return ClientError(f"cannot reach {url} ({error.__class__.__name__}); is `just run` up?")
