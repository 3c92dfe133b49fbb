"""OIDC bearer tokens: verify an access token against the issuer's published keys.

Theory of operation
-------------------
The issuer is found once through ``{issuer}/.well-known/openid-configuration``; its
``jwks_uri`` and the key set behind it are cached in the process.  A token is checked in
this order, cheapest first, so garbage never costs a network round trip:

1. ``Authorization: Bearer <compact JWS>`` is present and well formed;
2. its ``alg`` is on the allow-list (asymmetric only: ``none`` and ``HS*`` are refused
   before any key is looked at, which closes the "HMAC keyed with the public key" hole);
3. a published key matches its ``kid``, key type and use; an unknown ``kid`` may mean
   the issuer rotated its keys, so the set is fetched again, at most once per
   ``refetch_interval_s`` (a stream of made-up kids must not turn us into a load
   generator against the issuer);
4. the signature (joserfc), then ``iss``, ``aud`` (string or list), ``exp``, ``nbf``,
   ``iat`` with a small leeway, and a non-empty ``sub``, which becomes the user id.

Fetches share one ``trio.Lock`` and an attempt counter: callers that queued behind a
fetch reuse its outcome instead of fetching again.  A failed fetch is remembered for
``failure_backoff_s`` so a dead issuer answers 503 at once rather than once per request
after a timeout.  Every fetch runs under one ``trio.fail_after`` deadline: an issuer that
hangs gives a 503, never a hung request.

The token itself is never logged and never echoed in an error.
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
import trio
from joserfc import jws
from joserfc.errors import (
    ClaimError,
    ExpiredTokenError,
    JoseError,
    MissingClaimError,
    SecurityWarning,
)
from joserfc.jwk import JWKRegistry, Key
from joserfc.jwt import JWTClaimsRegistry

from livesim.config import is_loopback
from livesim.errors import Unauthorized, Unavailable

LOGGER = logging.getLogger(__name__)

# Each allowed JWS algorithm and the JWK key type that can verify it.  Only asymmetric
# algorithms: a verifier holding a public key must never accept a MAC or no signature.
ALGORITHM_KEY_TYPES: Mapping[str, str] = {
    "RS256": "RSA", "RS384": "RSA", "RS512": "RSA",
    "PS256": "RSA", "PS384": "RSA", "PS512": "RSA",
    "ES256": "EC", "ES384": "EC", "ES512": "EC",
    "EdDSA": "OKP", "Ed25519": "OKP", "Ed448": "OKP",
}
DEFAULT_ALGORITHMS: tuple[str, ...] = tuple(ALGORITHM_KEY_TYPES)

DISCOVERY_PATH = "/.well-known/openid-configuration"
# Real tokens are a few KB; the cap keeps a hostile header from reaching the parser.
MAX_TOKEN_CHARS = 16 * 1024
# Discovery documents and key sets are small; an issuer answering megabytes is broken.
MAX_DOCUMENT_BYTES = 1024 * 1024
MAX_SUBJECT_CHARS = 255
# An empty signature is let through the shape check so "alg: none" gets its precise error.
_COMPACT_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")

HttpClientSource = httpx.AsyncClient | Callable[[], httpx.AsyncClient]


def _invalid(message: str, code: str = "invalid_token") -> Unauthorized:
    # RFC 6750 §3: tell the client which scheme we expect and that its token failed.
    # The description is one of our fixed sentences, never anything from the token.
    return Unauthorized(message, code=code, headers={
        "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{message}"'})


class OidcAuthenticator:
    """Verifies OIDC access tokens against one issuer; the user id is the token's ``sub``.

    Args:
        issuer: the issuer URL exactly as tokens carry it in ``iss`` (https, or http on
            a loopback host for local issuers).
        audience: the value ``aud`` must equal or, for a list, contain.
        http: an ``httpx.AsyncClient`` to use (the caller closes it), or a factory called
            for each fetch (the authenticator closes what it creates); default: a plain
            client per fetch.
        leeway_s: clock skew allowed on ``exp``, ``nbf`` and ``iat``.
        refetch_interval_s: at most one key-set fetch per this many seconds caused by an
            unknown ``kid``.
        jwks_max_age_s: after this long the key set is fetched again on the next use, so
            a key the issuer withdrew stops working; if that fetch fails the cached keys
            keep serving.
        fetch_timeout_s: deadline for discovery plus key-set fetch together.
        failure_backoff_s: after a failed fetch, answer 503 without fetching for this long.
        algorithms: the JWS algorithms accepted; a subset of :data:`ALGORITHM_KEY_TYPES`.
        clock: monotonic seconds for the intervals above (``trio.current_time``).

    Raises:
        ValueError: an algorithm outside the asymmetric allow-list, or an issuer URL that
            is neither https nor loopback http.
    """

    def __init__(self, issuer: str, audience: str, *, http: HttpClientSource | None = None,
                 leeway_s: int = 30, refetch_interval_s: float = 60.0,
                 jwks_max_age_s: float = 3600.0, fetch_timeout_s: float = 5.0,
                 failure_backoff_s: float = 5.0,
                 algorithms: Collection[str] = DEFAULT_ALGORITHMS,
                 clock: Callable[[], float] = trio.current_time) -> None:
        refused = sorted(set(algorithms) - set(ALGORITHM_KEY_TYPES))
        if refused:
            raise ValueError(f"algorithms not allowed for OIDC tokens (asymmetric only): {refused}")
        if not algorithms:
            raise ValueError("at least one algorithm must be allowed")
        _check_url(issuer, "issuer")
        self.issuer = issuer
        self.audience = audience
        self._http = http
        self._leeway_s = leeway_s
        self._refetch_interval_s = refetch_interval_s
        self._jwks_max_age_s = jwks_max_age_s
        self._fetch_timeout_s = fetch_timeout_s
        self._failure_backoff_s = failure_backoff_s
        self._algorithms = frozenset(algorithms)
        self._registry = jws.JWSRegistry(
            algorithms=list(self._algorithms),
            # RFC 7515 §4: unknown header parameters are ignored unless listed in "crit"
            # (which joserfc still enforces); issuers add their own, e.g. Azure's "nonce".
            strict_check_header=False)
        self._clock = clock
        self._lock = trio.Lock()
        self._jwks_uri: str | None = None
        self._keys: list[Key] | None = None
        self._fetched_at = 0.0
        self._attempt = 0
        self._refetched_at: float | None = None
        self._failed_at: float | None = None
        self._failure = ""

    async def authenticate(self, authorization: str | None, dev_user: str | None) -> str:
        """The ``sub`` of a valid bearer token; ``dev_user`` is ignored in this mode.

        Raises:
            Unauthorized: no token, or a token that is malformed, expired, not yet valid,
                for another issuer or audience, or not signed by a published key.
            Unavailable: the issuer's discovery document or key set cannot be fetched
                or makes no sense (code ``auth_unavailable``).
        """
        token = _bearer_token(authorization)
        try:
            signed = jws.extract_compact(token.encode("ascii"))
            header = signed.headers()
        except (JoseError, ValueError, TypeError, RecursionError):
            raise _invalid("the bearer token is not a well-formed JWT") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._algorithms:
            raise _invalid("the token's signing algorithm is not accepted",
                           code="unsupported_algorithm")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise _invalid("the token's kid is not a string")
        key = await self._key_for(kid, alg)
        if not self._signature_ok(signed, key, alg):
            raise _invalid("the token's signature does not verify", code="invalid_signature")
        return self._subject(signed.payload)

    def _signature_ok(self, signed: jws.CompactSignature, key: Key, alg: str) -> bool:
        try:
            with warnings.catch_warnings():
                # joserfc flags the polymorphic "EdDSA" name as deprecated (RFC 9864);
                # the signature is exactly as strong as "Ed25519", and issuers still use it.
                warnings.simplefilter("ignore", SecurityWarning)
                return jws.validate_compact(signed, key, registry=self._registry)
        except (JoseError, ValueError, TypeError):
            return False

    def _subject(self, payload: bytes | None) -> str:
        try:
            claims = json.loads(payload or b"")
        except (ValueError, RecursionError):
            raise _invalid("the token's payload is not JSON") from None
        if not isinstance(claims, dict):
            raise _invalid("the token's payload is not a JSON object")
        registry = JWTClaimsRegistry(
            leeway=self._leeway_s,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.audience},
            exp={"essential": True},
            sub={"essential": True})
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise _invalid("the token has expired", code="token_expired") from None
        except MissingClaimError as error:
            raise _invalid(f"the token lacks required claims: {error.claim}",
                           code="missing_claim") from None
        except ClaimError as error:
            raise _claim_error(error.claim) from None
        except (JoseError, ValueError, TypeError):
            raise _invalid("the token's claims are malformed") from None
        subject: str = claims["sub"]
        if len(subject) > MAX_SUBJECT_CHARS:
            raise _invalid(f"the token's sub is longer than {MAX_SUBJECT_CHARS} characters")
        return subject

    async def _key_for(self, kid: str | None, alg: str) -> Key:
        # A key set fetched during this call is fresh: an unknown kid is then simply unknown.
        fresh = False
        if self._keys is None:
            fresh = await self._refresh(self._attempt, unknown_kid=False)
        elif self._clock() - self._fetched_at >= self._jwks_max_age_s:
            try:
                fresh = await self._refresh(self._attempt, unknown_kid=False)
            except Unavailable:
                LOGGER.warning("OIDC key set is older than %.0f s and could not be refreshed; "
                               "still using the cached keys", self._jwks_max_age_s)
        seen = self._attempt
        key = _select_key(self._keys or [], kid, alg)
        if key is None and not fresh and await self._refresh(seen, unknown_kid=True):
            key = _select_key(self._keys or [], kid, alg)
        if key is None:
            raise _invalid("the token is signed by a key the issuer does not publish",
                           code="unknown_key")
        return key

    async def _refresh(self, seen: int, *, unknown_kid: bool) -> bool:
        """Fetch the key set unless someone just did or a limit says no.

        Returns whether the cached key set may have changed since attempt ``seen``.
        """
        async with self._lock:
            if self._attempt != seen:
                # Another task fetched while this one queued for the lock: share its outcome.
                if self._keys is None:
                    raise self._unavailable()
                return True
            now = self._clock()
            if self._failed_at is not None and now - self._failed_at < self._failure_backoff_s:
                raise self._unavailable()
            if (unknown_kid and self._refetched_at is not None
                    and now - self._refetched_at < self._refetch_interval_s):
                return False
            self._attempt += 1
            if unknown_kid:
                self._refetched_at = now
            try:
                with trio.fail_after(self._fetch_timeout_s):
                    keys = await self._fetch_keys()
            except (Unavailable, trio.TooSlowError) as error:
                self._failed_at = self._clock()
                self._failure = (
                    error.message if isinstance(error, Unavailable) else
                    f"the OIDC issuer did not answer within {self._fetch_timeout_s:g} s")
                # The issuer may have moved its keys: look the jwks_uri up again next time.
                self._jwks_uri = None
                LOGGER.warning("OIDC key set fetch failed: %s", self._failure)
                raise self._unavailable() from None
            self._keys = keys
            self._fetched_at = self._clock()
            self._failed_at = None
            return True

    def _unavailable(self) -> Unavailable:
        return Unavailable(self._failure or "the OIDC issuer is unreachable",
                           code="auth_unavailable",
                           headers={"Retry-After": str(max(1, round(self._failure_backoff_s)))})

    async def _fetch_keys(self) -> list[Key]:
        if self._jwks_uri is None:
            discovery_url = self.issuer.rstrip("/") + DISCOVERY_PATH
            document = await self._get_json(discovery_url, "discovery document")
            if document.get("issuer") != self.issuer:
                raise Unavailable(
                    f"the discovery document at {discovery_url} names another issuer")
            jwks_uri = document.get("jwks_uri")
            if not isinstance(jwks_uri, str):
                raise Unavailable(f"the discovery document at {discovery_url} has no jwks_uri")
            try:
                _check_url(jwks_uri, "jwks_uri")
            except ValueError as error:
                raise Unavailable(str(error)) from None
            self._jwks_uri = jwks_uri
        key_set = await self._get_json(self._jwks_uri, "key set")
        return _import_keys(key_set, self._jwks_uri)

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        body = bytearray()
        try:
            async with self._client() as client:
                async with client.stream(
                        "GET", url, headers={"Accept": "application/json"}) as response:
                    if response.status_code != 200:
                        raise Unavailable(
                            f"the OIDC {what} at {url} answered HTTP {response.status_code}")
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > MAX_DOCUMENT_BYTES:
                            raise Unavailable(f"the OIDC {what} at {url} is too large")
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise Unavailable(
                f"the OIDC {what} at {url} cannot be fetched: {type(error).__name__}") from None
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            raise Unavailable(f"the OIDC {what} at {url} is not JSON") from None
        if not isinstance(document, dict):
            raise Unavailable(f"the OIDC {what} at {url} is not a JSON object")
        return document

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[httpx.AsyncClient]:
        if isinstance(self._http, httpx.AsyncClient):
            yield self._http
            return
        factory = self._http or _default_client
        async with factory() as client:
            yield client


def _default_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(follow_redirects=False)


def _bearer_token(authorization: str | None) -> str:
    if not authorization or not authorization.strip():
        raise _invalid("send an access token as Authorization: Bearer <token>",
                       code="missing_token")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _invalid("the Authorization header must be: Bearer <token>")
    if len(token) > MAX_TOKEN_CHARS or not _COMPACT_JWS.match(token):
        raise _invalid("the bearer token is not a well-formed JWT")
    return token


def _claim_error(claim: str) -> Unauthorized:
    if claim == "nbf":
        return _invalid("the token is not valid yet", code="token_not_yet_valid")
    if claim == "iss":
        return _invalid("the token was issued by another issuer", code="invalid_issuer")
    if claim == "aud":
        return _invalid("the token is meant for another audience", code="invalid_audience")
    if claim == "iat":
        return _invalid("the token was issued in the future")
    return _invalid(f"the token's {claim} claim is invalid")


def _select_key(keys: list[Key], kid: str | None, alg: str) -> Key | None:
    key_type = ALGORITHM_KEY_TYPES[alg]
    candidates = [
        key for key in keys
        if key.key_type == key_type
        and key.get("use") in (None, "sig")
        and key.alg in (None, alg)
        and (kid is None or key.kid == kid)]
    if kid is None and len(candidates) > 1:
        raise _invalid("the token has no kid and the issuer publishes several keys")
    return candidates[0] if candidates else None


def _import_keys(key_set: dict[str, Any], url: str) -> list[Key]:
    entries = key_set.get("keys")
    if not isinstance(entries, list):
        raise Unavailable(f"the OIDC key set at {url} has no keys list")
    keys: list[Key] = []
    for entry in entries:
        # RFC 7517 §5: skip keys we cannot use (unknown kty, symmetric, malformed)
        # rather than failing the whole set.
        if not isinstance(entry, dict) or entry.get("kty") not in ("RSA", "EC", "OKP"):
            continue
        try:
            keys.append(JWKRegistry.import_key(entry))
        except (JoseError, ValueError, TypeError, KeyError):
            LOGGER.warning("skipping a malformed key (kid %r) in the OIDC key set at %s",
                           entry.get("kid"), url)
    if not keys:
        raise Unavailable(f"the OIDC key set at {url} has no usable signing keys")
    return keys


def _check_url(url: str, what: str) -> None:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise ValueError(f"the OIDC {what} {url!r} is not a URL") from None
    if parsed.scheme == "https" and parsed.host:
        return
    if parsed.scheme == "http" and is_loopback(parsed.host):
        return
    raise ValueError(f"the OIDC {what} {url!r} must be https (http only on a loopback host)")
