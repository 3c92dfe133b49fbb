"""A real OIDC issuer for tests: keys, discovery and JWKS over HTTP, and signed tokens.

``open_issuer(nursery)`` serves a tiny ASGI app with hypercorn's trio worker on
127.0.0.1:0.  The test controls what it publishes (``publish``), how it misbehaves
(``mode``) and reads how often it was asked (``discovery_hits``, ``jwks_hits``).

It also runs the Authorization Code flow with PKCE for a browser (``/authorize``,
``/token``): ``/authorize`` signs ``login_sub`` in at once (no login form) and sends the
browser back with a one-time code; ``/token`` checks the code against the PKCE verifier,
and answers refresh-token grants too.  ``token_requests`` records each grant's type.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import warnings
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode

import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, Key, OKPKey, RSAKey

AUDIENCE = "livesim-api"
Mode = Literal["ok", "error", "hang", "garbage", "wrong_issuer"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@cache
def rsa_key(kid: str) -> RSAKey:
    """A 2048-bit RSA signing key, generated once per kid for the whole test run."""
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig"})


@cache
def ec_key(kid: str) -> ECKey:
    """A P-256 signing key, generated once per kid."""
    return ECKey.generate_key("P-256", parameters={"kid": kid})


@cache
def ed_key(kid: str) -> OKPKey:
    """An Ed25519 signing key, generated once per kid."""
    return OKPKey.generate_key("Ed25519", parameters={"kid": kid})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class Issuer:
    """The issuer's state; the URL is known once it is served."""

    url: str = ""
    published: list[Key] = field(default_factory=list)
    mode: Mode = "ok"
    discovery_hits: int = 0
    jwks_hits: int = 0
    # the Authorization Code flow
    login_sub: str = "alice"
    token_lifetime_s: int = 300
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # token -> sub
    token_requests: list[str] = field(default_factory=list)  # grant types, in order
    issued_access_tokens: list[str] = field(default_factory=list)

    def publish(self, *keys: Key) -> None:
        """Replace the published key set (a rotation when the kids change)."""
        self.published = list(keys)

    def claims(self, **overrides: Any) -> dict[str, Any]:
        """Valid claims for user ``alice``; an override of ``None`` drops that claim."""
        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.url, "aud": AUDIENCE, "sub": "alice",
                                  "iat": now, "nbf": now, "exp": now + 300}
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def token(self, key: Key, alg: str, *, header: dict[str, Any] | None = None,
              **overrides: Any) -> str:
        """A token signed by ``key`` with ``alg``; claims as :meth:`claims`."""
        protected = {"alg": alg, "kid": key.kid, **(header or {})}
        protected = {name: value for name, value in protected.items() if value is not None}
        with warnings.catch_warnings():
            # Signing with the deprecated "EdDSA" name is what some issuers still do.
            warnings.simplefilter("ignore", SecurityWarning)
            return jwt.encode(protected, self.claims(**overrides), key, algorithms=[alg])

    def unsigned_token(self, **overrides: Any) -> str:
        """An ``alg: none`` token, as an attacker would write it."""
        header = {"alg": "none", "typ": "JWT"}
        payload = self.claims(**overrides)
        return (f"{_b64(json.dumps(header).encode())}."
                f"{_b64(json.dumps(payload).encode())}.")

    def hmac_token_with_public_key(self, key: RSAKey) -> str:
        """HS256 keyed with the RSA public key's PEM: the classic algorithm confusion."""
        header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
        signing_input = (f"{_b64(json.dumps(header).encode())}."
                         f"{_b64(json.dumps(self.claims()).encode())}")
        secret = key.as_pem(private=False)
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path = scope["path"]
        if path == "/.well-known/openid-configuration":
            self.discovery_hits += 1
            issuer = "https://elsewhere.example" if self.mode == "wrong_issuer" else self.url
            await _answer(send, 200, {
                "issuer": issuer, "jwks_uri": self.url + "/jwks",
                "authorization_endpoint": self.url + "/authorize",
                "token_endpoint": self.url + "/token",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "code_challenge_methods_supported": ["S256"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["none"]})
        elif path == "/authorize":
            await self._authorize(scope, send)
        elif path == "/token" and scope["method"] == "OPTIONS":
            await _answer(send, 204, b"")
        elif path == "/token":
            await self._token(receive, send)
        elif path == "/jwks":
            self.jwks_hits += 1
            if self.mode == "hang":
                await trio.sleep_forever()
            elif self.mode == "error":
                await _answer(send, 500, {"error": "down"})
            elif self.mode == "garbage":
                await _answer(send, 200, b"<html>not a key set</html>")
            else:
                keys = [key.as_dict(private=False) for key in self.published]
                await _answer(send, 200, {"keys": keys})
        else:
            await _answer(send, 404, {"error": "not found"})


    async def _authorize(self, scope: Scope, send: Send) -> None:
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        needed = ("client_id", "redirect_uri", "response_type", "state", "code_challenge")
        if (any(name not in query for name in needed) or query["response_type"] != "code"
                or query.get("code_challenge_method") != "S256"):
            await _answer(send, 400, {"error": "invalid_request"})
            return
        code = secrets.token_urlsafe(16)
        self.codes[code] = {**query, "sub": self.login_sub}
        location = query["redirect_uri"] + "?" + urlencode({"code": code,
                                                            "state": query["state"]})
        await send({"type": "http.response.start", "status": 302,
                    "headers": [(b"location", location.encode()),
                                (b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    async def _token(self, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        grant = form.get("grant_type", "")
        self.token_requests.append(grant)
        if grant == "authorization_code":
            request = self.codes.pop(form.get("code", ""), None)  # one use only
            verifier = form.get("code_verifier", "")
            challenge = _b64(hashlib.sha256(verifier.encode()).digest())
            if (request is None or request["code_challenge"] != challenge
                    or request["client_id"] != form.get("client_id")
                    or request["redirect_uri"] != form.get("redirect_uri")):
                await _answer(send, 400, {"error": "invalid_grant"})
                return
            sub, client_id, nonce = request["sub"], request["client_id"], request.get("nonce")
        elif grant == "refresh_token" and form.get("refresh_token") in self.refresh_tokens:
            sub = self.refresh_tokens.pop(form["refresh_token"])  # rotated
            client_id, nonce = form.get("client_id", ""), None
        else:
            await _answer(send, 400, {"error": "invalid_grant"})
            return
        await _answer(send, 200, self._tokens(sub, client_id, nonce))

    def _tokens(self, sub: str, client_id: str, nonce: str | None) -> dict[str, Any]:
        key = rsa_key("rsa-1")
        exp = int(time.time()) + self.token_lifetime_s
        access = self.token(key, "RS256", sub=sub, exp=exp)
        id_token = self.token(key, "RS256", sub=sub, aud=client_id, exp=exp, nonce=nonce)
        refresh = secrets.token_urlsafe(24)
        self.refresh_tokens[refresh] = sub
        self.issued_access_tokens.append(access)
        return {"access_token": access, "id_token": id_token, "token_type": "Bearer",
                "expires_in": self.token_lifetime_s, "refresh_token": refresh,
                "scope": "openid profile offline_access"}


async def _answer(send: Send, status: int, body: dict[str, Any] | bytes) -> None:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    # Open to any origin, as real issuers are: a browser page fetches discovery and tokens.
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode()),
                            (b"access-control-allow-origin", b"*"),
                            (b"access-control-allow-headers", b"content-type"),
                            (b"access-control-allow-methods", b"GET, POST")]})
    await send({"type": "http.response.body", "body": data})


async def open_issuer(nursery: trio.Nursery) -> Issuer:
    """Serve a fresh issuer in ``nursery`` (cancelled with it) and return it."""
    issuer = Issuer()
    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.accesslog = None
    config.errorlog = None
    urls: list[str] = await nursery.start(partial(serve, issuer, config))
    issuer.url = urls[0]
    return issuer
