"""Serving the page: the bundle at / and /sessions/<id>, its assets, its config."""

from __future__ import annotations

from pathlib import Path

import httpx

from livesim.app.web import WEB_DIST_KEY
from livesim.config import Settings
from tests.support.server import Server

SESSION = "0b5c3bd0-6b8f-4a5e-9a53-1f2c3d4e5f60"


def fake_bundle(folder: Path) -> Path:
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text("<!doctype html><title>desk</title>"
                                       '<script type="module" src="/assets/app-abc.js"></script>')
    (folder / "assets" / "app-abc.js").write_text("console.log('desk')")
    return folder


async def test_the_page_and_its_assets(server: Server, tmp_path: Path) -> None:
    server.app.config[WEB_DIST_KEY] = str(fake_bundle(tmp_path / "dist"))
    async with httpx.AsyncClient(base_url=server.url) as browser:  # no credentials needed
        for path in ("/", f"/sessions/{SESSION}", "/auth/callback"):
            page = await browser.get(path)
            assert page.status_code == 200, path
            assert page.headers["content-type"].startswith("text/html")
            assert "<title>desk</title>" in page.text
            policy = page.headers["content-security-policy"]
            assert "default-src 'self'" in policy
            assert "script-src" not in policy
        asset = await browser.get("/assets/app-abc.js")
        assert asset.status_code == 200
        assert asset.text == "console.log('desk')"
        assert "immutable" in asset.headers["cache-control"]
        for missing in ("/assets/nope.js", "/assets/..%2Findex.html", "/sessions/not-a-uuid"):
            answer = await browser.get(missing)
            assert answer.status_code == 404, missing
            assert "error" in answer.json()


async def test_without_a_bundle_the_page_says_how_to_build_it(server: Server,
                                                              tmp_path: Path) -> None:
    server.app.config[WEB_DIST_KEY] = str(tmp_path / "nothing-here")
    async with httpx.AsyncClient(base_url=server.url) as browser:
        page = await browser.get("/")
        assert page.status_code == 200
        assert "just web" in page.text
        assert "npm run build" in page.text
    async with server.client() as client:  # and the API works as ever
        assert (await client.get("/api/profiles")).status_code == 200


async def test_web_config_in_dev_mode(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as browser:
        config = (await browser.get("/api/web-config")).json()
    assert config == {"authMode": "dev", "oidcIssuer": None, "oidcClientId": None,
                      "maxSpeed": server.settings.max_speed,
                      "maxBarsPerSecond": server.settings.max_bars_per_second}


def test_settings_read_the_pages_oidc_client_id() -> None:
    env = {"LIVESIM_AUTH": "oidc", "OIDC_ISSUER": "https://id.example.com",
           "OIDC_AUDIENCE": "livesim-api", "LIVESIM_OIDC_CLIENT_ID": "livesim-desk"}
    assert Settings.from_env(env).oidc_client_id == "livesim-desk"
    assert Settings.from_env({"LIVESIM_AUTH": "dev"}).oidc_client_id is None
