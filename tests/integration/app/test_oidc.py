"""OidcAuthenticator against a real issuer served over HTTP inside the test."""

from __future__ import annotations

import time

import httpx
import pytest
import trio

from livesim.app.oidc import OidcAuthenticator
from livesim.errors import Unauthorized, Unavailable
from tests.support.issuer import AUDIENCE, Issuer, ec_key, ed_key, open_issuer, rsa_key


class FakeClock:
    """Monotonic seconds for the refetch interval, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def issuer(nursery: trio.Nursery) -> Issuer:
    served = await open_issuer(nursery)
    served.publish(rsa_key("rsa-1"), ec_key("ec-1"))
    return served


def authenticator(issuer: Issuer, **options: object) -> OidcAuthenticator:
    return OidcAuthenticator(issuer.url, AUDIENCE, **options)  # type: ignore[arg-type]


async def rejected(auth: OidcAuthenticator, token: str | None) -> Unauthorized:
    header = None if token is None else f"Bearer {token}"
    with pytest.raises(Unauthorized) as caught:
        await auth.authenticate(header, None)
    error = caught.value
    assert error.status == 401
    assert error.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    if token:
        # The token must never come back to the caller (or a log reading the error).
        assert token not in error.message
        assert token not in error.headers["WWW-Authenticate"]
    return error


async def test_authenticate_valid_rsa_token_returns_sub(issuer: Issuer) -> None:
    token = issuer.token(rsa_key("rsa-1"), "RS256")
    assert await authenticator(issuer).authenticate(f"Bearer {token}", None) == "alice"


async def test_authenticate_valid_ec_token_returns_sub(issuer: Issuer) -> None:
    token = issuer.token(ec_key("ec-1"), "ES256", sub="bob")
    assert await authenticator(issuer).authenticate(f"Bearer {token}", None) == "bob"


async def test_authenticate_valid_pss_token_returns_sub(issuer: Issuer) -> None:
    token = issuer.token(rsa_key("rsa-1"), "PS256")
    assert await authenticator(issuer).authenticate(f"bearer {token}", None) == "alice"


async def test_authenticate_eddsa_token_returns_sub(issuer: Issuer) -> None:
    issuer.publish(ed_key("ed-1"))
    auth = authenticator(issuer)
    assert await auth.authenticate(f"Bearer {issuer.token(ed_key('ed-1'), 'EdDSA')}",
                                   None) == "alice"
    assert await auth.authenticate(f"Bearer {issuer.token(ed_key('ed-1'), 'Ed25519')}",
                                   None) == "alice"


async def test_authenticate_audience_list_containing_ours_returns_sub(issuer: Issuer) -> None:
    token = issuer.token(rsa_key("rsa-1"), "RS256", aud=["other", AUDIENCE])
    assert await authenticator(issuer).authenticate(f"Bearer {token}", None) == "alice"


async def test_authenticate_dev_user_header_is_ignored(issuer: Issuer) -> None:
    token = issuer.token(rsa_key("rsa-1"), "RS256")
    auth = authenticator(issuer)
    assert await auth.authenticate(f"Bearer {token}", "mallory") == "alice"
    error = await rejected(auth, None)
    assert error.code == "missing_token"


async def test_authenticate_valid_tokens_fetch_keys_once(issuer: Issuer) -> None:
    auth = authenticator(issuer)
    for sub in ("a", "b", "c"):
        token = issuer.token(rsa_key("rsa-1"), "RS256", sub=sub)
        assert await auth.authenticate(f"Bearer {token}", None) == sub
    assert (issuer.discovery_hits, issuer.jwks_hits) == (1, 1)


async def test_authenticate_missing_header_is_missing_token(issuer: Issuer) -> None:
    auth = authenticator(issuer)
    assert (await rejected(auth, None)).code == "missing_token"
    with pytest.raises(Unauthorized) as caught:
        await auth.authenticate("   ", None)
    assert caught.value.code == "missing_token"
    assert issuer.jwks_hits == 0


async def test_authenticate_other_scheme_is_invalid_token(issuer: Issuer) -> None:
    with pytest.raises(Unauthorized) as caught:
        await authenticator(issuer).authenticate("Basic YWxpY2U6c2VjcmV0", None)
    assert caught.value.code == "invalid_token"


@pytest.mark.parametrize(("garbage", "code"), [
    ("abc", "invalid_token"),
    ("a.b", "invalid_token"),
    ("a.b.c.d.e", "invalid_token"),
    ("!!.??.##", "invalid_token"),
    ("x" * 20_000, "invalid_token"),
    ("bm90IGpzb24.e30.c2ln", "invalid_token"),
    # well-formed RS256 without a kid: the one RSA key is tried, and it does not verify
    ("eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "invalid_signature"),
])
async def test_authenticate_malformed_token_is_rejected(issuer: Issuer, garbage: str,
                                                        code: str) -> None:
    assert (await rejected(authenticator(issuer), garbage)).code == code


async def test_authenticate_expired_token_is_token_expired(issuer: Issuer) -> None:
    token = issuer.token(rsa_key("rsa-1"), "RS256", exp=int(time.time()) - 120)
    assert (await rejected(authenticator(issuer), token)).code == "token_expired"


async def test_authenticate_expired_within_leeway_returns_sub(issuer: Issuer) -> None:
    token = issuer.token(rsa_key("rsa-1"), "RS256", exp=int(time.time()) - 10)
    assert await authenticator(issuer, leeway_s=30).authenticate(f"Bearer {token}",
                                                                 None) == "alice"


async def test_authenticate_not_yet_valid_token_is_rejected(issuer: Issuer) -> None:
    token = issuer.token(rsa_key("rsa-1"), "RS256", nbf=int(time.time()) + 120)
    assert (await rejected(authenticator(issuer), token)).code == "token_not_yet_valid"


async def test_authenticate_wrong_audience_is_invalid_audience(issuer: Issuer) -> None:
    auth = authenticator(issuer)
    token = issuer.token(rsa_key("rsa-1"), "RS256", aud="someone-else")
    assert (await rejected(auth, token)).code == "invalid_audience"
    token = issuer.token(rsa_key("rsa-1"), "RS256", aud=["a", "b"])
    assert (await rejected(auth, token)).code == "invalid_audience"


async def test_authenticate_wrong_issuer_is_invalid_issuer(issuer: Issuer) -> None:
    token = issuer.token(rsa_key("rsa-1"), "RS256", iss="https://evil.example")
    assert (await rejected(authenticator(issuer), token)).code == "invalid_issuer"


@pytest.mark.parametrize("claim", ["sub", "exp", "iss", "aud"])
async def test_authenticate_missing_claim_is_missing_claim(issuer: Issuer, claim: str) -> None:
    token = issuer.token(rsa_key("rsa-1"), "RS256", **{claim: None})
    assert (await rejected(authenticator(issuer), token)).code == "missing_claim"


async def test_authenticate_empty_sub_is_invalid_token(issuer: Issuer) -> None:
    token = issuer.token(rsa_key("rsa-1"), "RS256", sub="")
    assert (await rejected(authenticator(issuer), token)).code == "invalid_token"


async def test_authenticate_unknown_key_is_unknown_key(issuer: Issuer) -> None:
    token = issuer.token(rsa_key("stranger"), "RS256")
    assert (await rejected(authenticator(issuer), token)).code == "unknown_key"


async def test_authenticate_foreign_key_with_known_kid_is_invalid_signature(
        issuer: Issuer) -> None:
    # An attacker's own key, labelled with the issuer's kid.
    token = issuer.token(rsa_key("attacker"), "RS256", header={"kid": "rsa-1"})
    assert (await rejected(authenticator(issuer), token)).code == "invalid_signature"


async def test_authenticate_alg_none_is_unsupported_algorithm(issuer: Issuer) -> None:
    error = await rejected(authenticator(issuer), issuer.unsigned_token())
    assert error.code == "unsupported_algorithm"
    assert issuer.jwks_hits == 0


async def test_authenticate_hs256_keyed_with_public_key_is_rejected(issuer: Issuer) -> None:
    token = issuer.hmac_token_with_public_key(rsa_key("rsa-1"))
    assert (await rejected(authenticator(issuer), token)).code == "unsupported_algorithm"


async def test_authenticate_disallowed_algorithm_is_unsupported(issuer: Issuer) -> None:
    token = issuer.token(ec_key("ec-1"), "ES256")
    auth = authenticator(issuer, algorithms=["RS256"])
    assert (await rejected(auth, token)).code == "unsupported_algorithm"


@pytest.mark.parametrize("algorithms", [["RS256", "HS256"], ["none"], [], ["XX1"]])
def test_authenticator_symmetric_or_unknown_algorithm_raises(algorithms: list[str]) -> None:
    with pytest.raises(ValueError, match="algorithm"):
        OidcAuthenticator("https://issuer.example", AUDIENCE, algorithms=algorithms)


@pytest.mark.parametrize("url", ["http://issuer.example", "ftp://127.0.0.1", "not a url"])
def test_authenticator_insecure_issuer_url_raises(url: str) -> None:
    with pytest.raises(ValueError, match="issuer"):
        OidcAuthenticator(url, AUDIENCE)


async def test_authenticate_rotated_key_refetches_once_then_rate_limits(
        issuer: Issuer) -> None:
    clock = FakeClock()
    auth = authenticator(issuer, refetch_interval_s=60.0, clock=clock)
    await auth.authenticate(f"Bearer {issuer.token(rsa_key('rsa-1'), 'RS256')}", None)
    assert issuer.jwks_hits == 1

    issuer.publish(rsa_key("rsa-2"), ec_key("ec-1"))
    rotated = issuer.token(rsa_key("rsa-2"), "RS256", sub="after-rotation")
    assert await auth.authenticate(f"Bearer {rotated}", None) == "after-rotation"
    assert issuer.jwks_hits == 2

    issuer.publish(rsa_key("rsa-3"))
    clock.now += 59.0
    again = issuer.token(rsa_key("rsa-3"), "RS256")
    assert (await rejected(auth, again)).code == "unknown_key"
    assert issuer.jwks_hits == 2

    clock.now += 2.0
    assert await auth.authenticate(f"Bearer {again}", None) == "alice"
    assert issuer.jwks_hits == 3


async def test_authenticate_concurrent_unknown_kid_shares_one_fetch(issuer: Issuer) -> None:
    auth = authenticator(issuer)
    await auth.authenticate(f"Bearer {issuer.token(rsa_key('rsa-1'), 'RS256')}", None)
    issuer.publish(rsa_key("rsa-2"))
    token = issuer.token(rsa_key("rsa-2"), "RS256")
    subjects: list[str] = []

    async def one() -> None:
        subjects.append(await auth.authenticate(f"Bearer {token}", None))

    async with trio.open_nursery() as nursery:
        for _ in range(10):
            nursery.start_soon(one)
    assert subjects == ["alice"] * 10
    assert issuer.jwks_hits == 2


async def test_authenticate_key_set_past_max_age_is_refetched(issuer: Issuer) -> None:
    clock = FakeClock()
    auth = authenticator(issuer, jwks_max_age_s=600.0, clock=clock)
    token = issuer.token(rsa_key("rsa-1"), "RS256")
    await auth.authenticate(f"Bearer {token}", None)
    issuer.publish(ec_key("ec-1"))  # the issuer withdraws rsa-1
    assert await auth.authenticate(f"Bearer {token}", None) == "alice"
    clock.now += 601.0
    assert (await rejected(auth, token)).code == "unknown_key"
    assert issuer.jwks_hits == 2


async def test_authenticate_stale_keys_survive_failed_refresh(issuer: Issuer) -> None:
    clock = FakeClock()
    auth = authenticator(issuer, jwks_max_age_s=600.0, clock=clock)
    token = issuer.token(rsa_key("rsa-1"), "RS256")
    await auth.authenticate(f"Bearer {token}", None)
    issuer.mode = "error"
    clock.now += 601.0
    assert await auth.authenticate(f"Bearer {token}", None) == "alice"


async def assert_unavailable_quickly(auth: OidcAuthenticator, token: str) -> Unavailable:
    started = trio.current_time()
    with pytest.raises(Unavailable) as caught:
        await auth.authenticate(f"Bearer {token}", None)
    assert trio.current_time() - started < 2.0
    error = caught.value
    assert (error.status, error.code) == (503, "auth_unavailable")
    assert int(error.headers["Retry-After"]) >= 1
    return error


@pytest.mark.parametrize("mode", ["error", "garbage", "wrong_issuer"])
async def test_authenticate_broken_issuer_is_auth_unavailable(issuer: Issuer,
                                                             mode: str) -> None:
    issuer.mode = mode  # type: ignore[assignment]
    await assert_unavailable_quickly(authenticator(issuer),
                                     issuer.token(rsa_key("rsa-1"), "RS256"))


async def test_authenticate_hanging_jwks_is_unavailable_after_timeout(issuer: Issuer) -> None:
    issuer.mode = "hang"
    auth = authenticator(issuer, fetch_timeout_s=0.3)
    error = await assert_unavailable_quickly(auth, issuer.token(rsa_key("rsa-1"), "RS256"))
    assert "did not answer" in error.message


async def test_authenticate_unreachable_issuer_is_unavailable() -> None:
    # A port that was just free: nothing listens there.
    with trio.socket.socket() as sock:
        await sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    auth = OidcAuthenticator(f"http://127.0.0.1:{port}", AUDIENCE)
    await assert_unavailable_quickly(auth, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln")


async def test_authenticate_after_failure_backs_off_without_fetching(issuer: Issuer) -> None:
    clock = FakeClock()
    issuer.mode = "error"
    auth = authenticator(issuer, failure_backoff_s=5.0, clock=clock)
    token = issuer.token(rsa_key("rsa-1"), "RS256")
    await assert_unavailable_quickly(auth, token)
    issuer.mode = "ok"
    await assert_unavailable_quickly(auth, token)
    assert issuer.jwks_hits == 1
    clock.now += 5.0
    assert await auth.authenticate(f"Bearer {token}", None) == "alice"
    assert issuer.jwks_hits == 2


async def test_authenticate_shared_client_instance_is_used(issuer: Issuer) -> None:
    async with httpx.AsyncClient() as client:
        auth = authenticator(issuer, http=client)
        token = issuer.token(rsa_key("rsa-1"), "RS256")
        assert await auth.authenticate(f"Bearer {token}", None) == "alice"
        assert not client.is_closed
