"""CORS: off by default; with LIVESIM_CORS_ORIGINS only the listed origins get the headers."""

from __future__ import annotations

import httpx
import pytest

from livesim.app import create_app
from livesim.config import Settings, SettingsError
from tests.support.server import TEST_SETTINGS

ALLOWED = "https://desk.example.com"
OTHER = "https://evil.example.net"
PREFLIGHT = {"Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "content-type, x-dev-user"}


@pytest.fixture
def settings() -> Settings:
    return TEST_SETTINGS.with_changes(cors_origins=(ALLOWED, "http://localhost:5173"))


async def test_an_allowed_origin_gets_the_headers(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/profiles", headers={"Origin": ALLOWED})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == ALLOWED
    assert "Origin" in answer.headers["vary"]
    # errors carry them too, or the browser hides the error body from the front end
    refused = await client.get("/api/sim/sessions/not-a-session", headers={"Origin": ALLOWED})
    assert refused.status_code == 404
    assert refused.headers["access-control-allow-origin"] == ALLOWED


async def test_preflight_of_an_allowed_origin(client: httpx.AsyncClient) -> None:
    answer = await client.options("/api/sim/sessions",
                                  headers={"Origin": ALLOWED, **PREFLIGHT})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in answer.headers["access-control-allow-methods"]
    allowed_headers = answer.headers["access-control-allow-headers"].lower()
    assert "content-type" in allowed_headers
    assert "x-dev-user" in allowed_headers


async def test_another_origin_gets_no_cors_headers(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/profiles", headers={"Origin": OTHER})
    assert answer.status_code == 200  # CORS is the browser's to enforce; no grant given
    assert "access-control-allow-origin" not in answer.headers
    preflight = await client.options("/api/sim/sessions", headers={"Origin": OTHER, **PREFLIGHT})
    assert "access-control-allow-origin" not in preflight.headers


async def test_off_by_default() -> None:
    assert Settings().cors_origins == ()
    # A preflight needs no services: the app alone answers it.
    app = create_app(Settings(auth_mode="dev"), "postgresql://unused")
    answer = await app.test_client().options("/api/sim/sessions",
                                             headers={"Origin": ALLOWED, **PREFLIGHT})
    assert answer.status_code == 200
    assert "access-control-allow-origin" not in answer.headers
    assert "access-control-allow-methods" not in answer.headers


def test_settings_parse_a_list_of_origins() -> None:
    env = {"LIVESIM_AUTH": "dev",
           "LIVESIM_CORS_ORIGINS": " https://a.example.com, http://127.0.0.1:5173 ,"}
    assert Settings.from_env(env).cors_origins == ("https://a.example.com",
                                                   "http://127.0.0.1:5173")
    assert Settings.from_env({"LIVESIM_AUTH": "dev"}).cors_origins == ()


@pytest.mark.parametrize("bad", ["*", "https://a.example.com/", "a.example.com",
                                 "ftp://a.example.com", "https://a.example.com/path"])
def test_settings_refuse_what_is_not_an_origin(bad: str) -> None:
    with pytest.raises(SettingsError, match="LIVESIM_CORS_ORIGINS"):
        Settings.from_env({"LIVESIM_AUTH": "dev", "LIVESIM_CORS_ORIGINS": bad})
