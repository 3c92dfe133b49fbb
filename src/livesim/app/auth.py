"""Who is calling: the one place that turns a request into a user id.

``LIVESIM_AUTH=dev`` (loopback binds only) trusts the ``X-Dev-User`` header, for the
local demo.  ``LIVESIM_AUTH=oidc`` verifies a bearer access token (see
:mod:`livesim.app.oidc`); the user is its ``sub``.
"""

from __future__ import annotations

import logging
import re

from quart import request

from livesim.app.state import Authenticator, app_state
from livesim.config import AUTH, OIDC_AUDIENCE, OIDC_ISSUER, Settings, SettingsError
from livesim.errors import Unauthorized

LOGGER = logging.getLogger(__name__)
DEV_USER_HEADER = "X-Dev-User"
_DEV_USER = re.compile(r"^[A-Za-z0-9._@:-]{1,128}$")


class DevAuthenticator:
    """Dev mode: the user is whatever ``X-Dev-User`` says (never on a public bind)."""

    async def authenticate(self, authorization: str | None, dev_user: str | None) -> str:
        if not dev_user:
            raise Unauthorized(f"dev auth mode: send the user in the {DEV_USER_HEADER} header",
                               code="missing_user")
        if not _DEV_USER.match(dev_user):
            raise Unauthorized(f"{DEV_USER_HEADER} must be 1-128 of A-Z a-z 0-9 . _ @ : -",
                               code="invalid_user")
        return dev_user


async def require_user() -> str:
    """The calling user's id, or 401."""
    return await app_state().authenticator.authenticate(
        request.headers.get("Authorization"), request.headers.get(DEV_USER_HEADER))


def build_authenticator(settings: Settings) -> Authenticator:
    """The authenticator for ``settings.auth_mode``."""
    if settings.auth_mode == "dev":
        LOGGER.warning("LIVESIM_AUTH=dev: NO AUTHENTICATION. Anyone who can reach "
                       "%s:%s acts as any user by sending %s. Local demo only.",
                       settings.host, settings.port, DEV_USER_HEADER)
        return DevAuthenticator()
    from livesim.app.oidc import OidcAuthenticator

    if not (settings.oidc_issuer and settings.oidc_audience):
        raise SettingsError(f"{AUTH}=oidc needs {OIDC_ISSUER} and {OIDC_AUDIENCE}")
    return OidcAuthenticator(settings.oidc_issuer, settings.oidc_audience)
