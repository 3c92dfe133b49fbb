// Signing in, OIDC mode: Authorization Code + PKCE as a public client.
//
// oidc-client-ts does the protocol (PKCE verifier and challenge, state and nonce checks,
// the code exchange, refresh-token renewal before expiry). Tokens live in memory only
// (InMemoryWebStorage): a reload signs in again, usually without a prompt while the
// issuer's own session lasts. Only the sign-in request's state (the PKCE verifier) is
// kept in localStorage across the redirect, as the library does by default.

import { InMemoryWebStorage, UserManager, WebStorageStateStore } from "oidc-client-ts";

const RETURN_TO_KEY = "livesim.returnTo";
export const CALLBACK_PATH = "/auth/callback";

/**
 * OIDC mode. `ready()` finishes a redirect back from the issuer (on CALLBACK_PATH) and
 * resolves to the signed-in user's name or null.
 * @param {{oidcIssuer: string, oidcClientId: string}} config
 */
export function oidcAuth(config) {
  const manager = new UserManager({
    authority: config.oidcIssuer,
    client_id: config.oidcClientId,
    redirect_uri: `${location.origin}${CALLBACK_PATH}`,
    response_type: "code",
    scope: "openid profile offline_access",
    userStore: new WebStorageStateStore({ store: new InMemoryWebStorage() }),
    automaticSilentRenew: true, // with the refresh token, before the access token expires
  });
  /** @type {import("oidc-client-ts").User | null} */
  let user = null;
  manager.events.addUserLoaded((loaded) => {
    user = loaded;
  });
  manager.events.addUserUnloaded(() => {
    user = null;
  });

  return {
    manager,
    /** @returns {Promise<string | null>} */
    async ready() {
      if (location.pathname === CALLBACK_PATH) {
        user = await manager.signinRedirectCallback();
        const back = sessionStorage.getItem(RETURN_TO_KEY) || "/";
        sessionStorage.removeItem(RETURN_TO_KEY);
        history.replaceState(null, "", back); // the code leaves the address bar
      } else {
        user = await manager.getUser();
      }
      return user && !user.expired ? String(user.profile.sub) : null;
    },
    signIn() {
      sessionStorage.setItem(RETURN_TO_KEY, location.pathname);
      return manager.signinRedirect();
    },
    /** Renew now (also done automatically before expiry). */
    async renew() {
      user = await manager.signinSilent();
      return user;
    },
    accessToken: () => (user ? user.access_token : null),
    /** The client's Auth: a bearer header when signed in. */
    auth: {
      headers: async () => (user && !user.expired
        ? { Authorization: `Bearer ${user.access_token}` } : {}),
    },
  };
}
