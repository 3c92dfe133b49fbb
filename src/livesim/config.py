"""Settings, read from the environment once and passed down as a frozen object."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

# The environment variables livesim reads, in one place.
DATABASE_URL = "DATABASE_URL"
HOST = "LIVESIM_HOST"
PORT = "LIVESIM_PORT"
AUTH = "LIVESIM_AUTH"
OIDC_ISSUER = "OIDC_ISSUER"
OIDC_AUDIENCE = "OIDC_AUDIENCE"
HEARTBEAT_S = "LIVESIM_HEARTBEAT_S"
MAX_SPEED = "LIVESIM_MAX_SPEED"
MAX_CANDLES = "LIVESIM_MAX_CANDLES"
MAX_BODY_BYTES = "LIVESIM_MAX_BODY_BYTES"
MAX_RUNNING_PER_USER = "LIVESIM_MAX_RUNNING_PER_USER"
MAX_STREAMS_PER_USER = "LIVESIM_MAX_STREAMS_PER_USER"
SUBSCRIBER_BUFFER = "LIVESIM_SUBSCRIBER_BUFFER"
DATA_DIR = "LIVESIM_DATA_DIR"
TICKET_SECRET = "LIVESIM_TICKET_SECRET"
LEASE_TTL_S = "LIVESIM_LEASE_TTL_S"
MAX_BARS_PER_SECOND = "LIVESIM_MAX_BARS_PER_SECOND"

AUTH_MODES = ("dev", "oidc")
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class SettingsError(ValueError):
    """A setting has a value livesim cannot use; the message names the variable."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not value >= minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {raw}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything livesim can be told from outside; see the README for each variable."""

    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    auth_mode: str = "oidc"
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    heartbeat_s: float = 15.0
    max_speed: float = 200.0
    # the fastest pace given as bars per second (the speed action's barsPerSecond)
    max_bars_per_second: float = 20.0
    max_candles_per_session: int = 1_000_000
    max_body_bytes: int = 64 * 1024 * 1024
    max_running_per_user: int = 20
    max_streams_per_user: int = 50
    # events buffered per live subscriber before it is switched to catching up from the DB
    subscriber_buffer: int = 1000
    # how long a process that stops renewing its lease keeps its sessions
    lease_ttl_s: float = 5.0
    data_dir: Path = PROJECT_ROOT / ".livesim"
    # key material for stream tickets; None: a random key per process (one process only)
    ticket_secret: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, check: bool = True) -> Settings:
        """Read every setting; ``check=False`` skips the serving checks (offline commands)."""
        env = os.environ if env is None else env
        auth_mode = env.get(AUTH, "oidc") or "oidc"
        if auth_mode not in AUTH_MODES:
            raise SettingsError(f"{AUTH} must be one of {', '.join(AUTH_MODES)}, got {auth_mode!r}")
        settings = cls(
            database_url=env.get(DATABASE_URL) or None,
            host=env.get(HOST, "127.0.0.1") or "127.0.0.1",
            port=_int(env, PORT, 8000),
            auth_mode=auth_mode,
            oidc_issuer=env.get(OIDC_ISSUER) or None,
            oidc_audience=env.get(OIDC_AUDIENCE) or None,
            heartbeat_s=_float(env, HEARTBEAT_S, 15.0, minimum=0.01),
            max_speed=_float(env, MAX_SPEED, 200.0, minimum=1.0),
            max_bars_per_second=_float(env, MAX_BARS_PER_SECOND, 20.0, minimum=0.01),
            max_candles_per_session=_int(env, MAX_CANDLES, 1_000_000, minimum=1),
            max_body_bytes=_int(env, MAX_BODY_BYTES, 64 * 1024 * 1024, minimum=1024),
            max_running_per_user=_int(env, MAX_RUNNING_PER_USER, 20, minimum=1),
            max_streams_per_user=_int(env, MAX_STREAMS_PER_USER, 50, minimum=1),
            subscriber_buffer=_int(env, SUBSCRIBER_BUFFER, 1000, minimum=1),
            lease_ttl_s=_float(env, LEASE_TTL_S, 5.0, minimum=0.5),
            data_dir=Path(env.get(DATA_DIR) or PROJECT_ROOT / ".livesim"),
            ticket_secret=env.get(TICKET_SECRET) or None,
        )
        if check:
            settings.check()
        return settings

    def check(self) -> None:
        """Refuse combinations that are unsafe or cannot work."""
        if self.auth_mode == "dev" and not is_loopback(self.host):
            raise SettingsError(
                f"{AUTH}=dev is only allowed on a loopback bind, not {HOST}={self.host}")
        if self.auth_mode == "oidc" and not (self.oidc_issuer and self.oidc_audience):
            raise SettingsError(f"{AUTH}=oidc needs {OIDC_ISSUER} and {OIDC_AUDIENCE}")

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def is_loopback(host: str) -> bool:
    """True for a host name or address that only this machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
