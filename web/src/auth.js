// Signing in, dev mode: the user field's value, kept in localStorage, sent as X-Dev-User.
// (OIDC mode is in oidc.js, loaded only when the server runs in that mode.)

import { devAuth } from "./client.js";

const DEV_USER_KEY = "livesim.devUser";

/** The dev user kept in localStorage (empty when never set). */
export function storedDevUser() {
  return localStorage.getItem(DEV_USER_KEY) || "";
}

/** @param {string} user */
export function storeDevUser(user) {
  localStorage.setItem(DEV_USER_KEY, user);
}

/** Dev mode: `X-Dev-User` from the user field's stored value. */
export function devModeAuth() {
  return devAuth(storedDevUser);
}
