"""A real OIDC issuer for tests: keys, discovery and JWKS over HTTP, and signed tokens.

``open_issuer(nursery)`` serves a tiny ASGI app with hypercorn's trio worker on
127.0.0.1:0.  The test controls what it publishes (``publish``), how it misbehaves
(``mode``) and reads how often it was asked (``discovery_hits``, ``jwks_hits``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import warnings
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any, Literal

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
            await _answer(send, 200, {"issuer": issuer, "jwks_uri": self.url + "/jwks"})
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


async def _answer(send: Send, status: int, body: dict[str, Any] | bytes) -> None:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode())]})
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
