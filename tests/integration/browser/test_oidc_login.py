"""OIDC in the browser: Authorization Code + PKCE against a local issuer, tokens renewed,
and never a token in a URL."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from livesim.config import Settings
from tests.support.browser import chromium, in_browser, new_page, screenshot
from tests.support.issuer import AUDIENCE, Issuer, open_issuer, rsa_key
from tests.support.server import TEST_SETTINGS, Server

CLIENT_ID = "livesim-desk"


@pytest.fixture
async def issuer(nursery: trio.Nursery) -> Issuer:
    served = await open_issuer(nursery)
    served.publish(rsa_key("rsa-1"))
    return served


@pytest.fixture
def settings(issuer: Issuer) -> Settings:
    return TEST_SETTINGS.with_changes(auth_mode="oidc", oidc_issuer=issuer.url,
                                      oidc_audience=AUDIENCE, oidc_client_id=CLIENT_ID)


def sign_in_and_renew(url: str) -> dict[str, Any]:
    errors: list[str] = []
    requests: list[tuple[str, str | None]] = []  # (url, authorization header)
    with chromium() as browser:
        page = new_page(browser, errors)
        page.on("request", lambda r: requests.append((r.url, r.headers.get("authorization"))))
        page.goto(url + "/")
        page.click("#sign-in")  # to the issuer and straight back with a code
        page.wait_for_selector("#signed-in")
        signed_in = page.inner_text("#signed-in")
        address = page.evaluate("() => location.href")
        # signed in, the page's API calls work: the market picker fills from /api/markets
        page.wait_for_selector('select[name=market] option[value="TEST|1m"]', state="attached")
        renewed = page.evaluate("() => window.__livesim.oidc.renew().then(u => !!u)")
        page.wait_for_timeout(2500)  # the sessions list refreshes with the renewed token
        screenshot(page, "desk-oidc-signed-in")
        return {"errors": errors, "requests": requests, "signed_in": signed_in,
                "address": address, "renewed": renewed}


async def test_sign_in_with_code_and_pkce_then_renew(server: Server, issuer: Issuer) -> None:
    outcome = await in_browser(sign_in_and_renew, server.url)
    assert outcome["errors"] == []
    assert outcome["signed_in"] == "Signed in as alice"
    assert outcome["address"] == server.url + "/"  # the code left the address bar
    assert issuer.token_requests == ["authorization_code", "refresh_token"]
    assert outcome["renewed"] is True
    first, second = issuer.issued_access_tokens
    requests = outcome["requests"]
    api_calls = [(u, auth) for u, auth in requests
                 if u.startswith(server.url + "/api/") and "/api/web-config" not in u]
    assert api_calls
    assert {auth for _, auth in api_calls} <= {f"Bearer {first}", f"Bearer {second}"}
    assert (f"Bearer {second}") in {auth for _, auth in api_calls}  # renewed token in use
    # never a token in a URL, on any request the page made (the app's or the issuer's)
    for request_url, _ in requests:
        assert first not in request_url
        assert second not in request_url
        assert "access_token" not in request_url
        assert "id_token" not in request_url
    # the authorization request used PKCE (S256), which the issuer checked at /token
    authorize = [u for u, _ in requests if u.startswith(issuer.url + "/authorize")]
    assert len(authorize) == 1
    assert "code_challenge_method=S256" in authorize[0]
