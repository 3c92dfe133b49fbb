"""Settings from the environment: dev auth is refused on a public bind."""

from __future__ import annotations

import pytest

from livesim.config import Settings, SettingsError, is_loopback

OIDC = {"OIDC_ISSUER": "https://issuer.example", "OIDC_AUDIENCE": "livesim"}


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com", "10.0.0.1"])
def test_dev_auth_on_a_public_bind_is_refused(host: str) -> None:
    with pytest.raises(SettingsError, match="LIVESIM_AUTH=dev is only allowed on a loopback"):
        Settings.from_env({"LIVESIM_AUTH": "dev", "LIVESIM_HOST": host})


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.5.5.5"])
def test_dev_auth_on_loopback_is_allowed(host: str) -> None:
    settings = Settings.from_env({"LIVESIM_AUTH": "dev", "LIVESIM_HOST": host})
    assert (settings.auth_mode, settings.host) == ("dev", host)


def test_oidc_on_a_public_bind_is_allowed() -> None:
    settings = Settings.from_env({"LIVESIM_HOST": "0.0.0.0", **OIDC})
    assert settings.auth_mode == "oidc"


def test_oidc_without_issuer_is_refused() -> None:
    with pytest.raises(SettingsError, match="OIDC_ISSUER"):
        Settings.from_env({"LIVESIM_AUTH": "oidc"})


def test_unchecked_settings_skip_the_serving_checks() -> None:
    # offline commands (migrate, candles import) read settings without serving
    settings = Settings.from_env({"LIVESIM_AUTH": "dev", "LIVESIM_HOST": "0.0.0.0"},
                                 check=False)
    assert settings.host == "0.0.0.0"


@pytest.mark.parametrize(("name", "value"), [("LIVESIM_AUTH", "none"),
                                             ("LIVESIM_PORT", "eighty"),
                                             ("LIVESIM_MAX_SPEED", "0.5")])
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value, **OIDC})


def test_is_loopback() -> None:
    assert [is_loopback(h) for h in ("127.0.0.1", "localhost", "::1")] == [True] * 3
    assert [is_loopback(h) for h in ("0.0.0.0", "livesim.example")] == [False] * 2
