// The page: sign-in, routing between the sessions list (/) and one session (/sessions/<id>).

import "./style.css";
import { devModeAuth, storeDevUser, storedDevUser } from "./auth.js";
import { api, configure } from "./client.js";
import { openDesk } from "./desk.js";
import { openHome } from "./home.js";
import { el, navigate } from "./dom.js";

const SESSION_PATH = /^\/sessions\/([0-9a-f-]{36})$/;
/** @type {{close: () => void} | null} */
let view = null;

function route() {
  if (view) view.close();
  const match = SESSION_PATH.exec(location.pathname);
  for (const section of document.querySelectorAll("main > section")) {
    /** @type {HTMLElement} */ (section).hidden = true;
  }
  view = match ? openDesk(match[1]) : openHome();
}

document.addEventListener("click", (event) => {
  const link = /** @type {HTMLElement} */ (event.target).closest("a[data-link]");
  if (link && !event.ctrlKey && !event.metaKey && !event.shiftKey) {
    event.preventDefault();
    navigate(/** @type {HTMLAnchorElement} */ (link).pathname);
  }
});
window.addEventListener("popstate", route);

function devSignIn(/** @type {HTMLElement} */ box) {
  configure({ auth: devModeAuth() });
  const input = el("input", { id: "dev-user", value: storedDevUser(), placeholder: "user",
    size: 12, title: "dev mode: sent as X-Dev-User" });
  input.addEventListener("change", () => {
    storeDevUser(input.value.trim());
    route();
  });
  box.append(el("label", {}, "Dev user ", input));
  if (!storedDevUser()) storeDevUser("demo");
  input.value = storedDevUser();
  route();
}

async function oidcSignIn(/** @type {HTMLElement} */ box, /** @type {any} */ config) {
  if (!config.oidcClientId) {
    box.append(el("span", { className: "form-error" },
      "Sign-in is not configured: the server needs LIVESIM_OIDC_CLIENT_ID."));
    return;
  }
  const { oidcAuth } = await import("./oidc.js"); // only OIDC mode loads the library
  const oidc = oidcAuth(config);
  configure({ auth: { ...oidc.auth, onUnauthorized: () => box.classList.add("expired") } });
  window.__livesim.oidc = oidc;
  let user = null;
  try {
    user = await oidc.ready();
  } catch (error) {
    box.append(el("span", { className: "form-error" }, `Sign-in failed: ${error.message}`));
  }
  if (!user) {
    const button = el("button", { id: "sign-in" }, "Sign in");
    button.addEventListener("click", () => oidc.signIn());
    box.append(button);
    return;
  }
  const out = el("button", { id: "sign-out" }, "Sign out");
  out.addEventListener("click", () => oidc.manager.removeUser().then(() => location.assign("/")));
  box.append(el("span", { id: "signed-in" }, `Signed in as ${user}`), out);
  route();
}

async function start() {
  window.__livesim = window.__livesim || {};
  const box = /** @type {HTMLElement} */ (document.getElementById("auth"));
  const config = await api("/api/web-config");
  window.__livesim.config = config;
  if (config.authMode === "oidc") await oidcSignIn(box, config);
  else devSignIn(box);
}

start();
