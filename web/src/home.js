// The sessions view: the user's sessions, the create form and the CSV import form.

import { api, ApiError, createSession } from "./client.js";
import {
  clearErrors, el, fromLocalInput, navigate, showErrors, toLocalInput, utc,
} from "./dom.js";

const REFRESH_MS = 2000;
const RETURN_ROWS = 20; // the newest sessions get a "return so far" (one request each)
const TIMEFRAMES = ["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d"];

const $ = (/** @type {string} */ selector) => /** @type {HTMLElement} */ (
  document.querySelector(selector));

/** @type {Record<string, any>} */
let profiles = {};
/** @type {Record<string, any>} */
let markets = {};

export function openHome() {
  $("#home").hidden = false;
  const timer = setInterval(refreshSessions, REFRESH_MS);
  refreshSessions();
  loadForm();
  return { close: () => clearInterval(timer) };
}

async function refreshSessions() {
  let list;
  try {
    list = (await api("/api/sim/sessions?limit=50")).sessions;
  } catch {
    return; // shown again on the next tick; the auth box says when signed out
  }
  const body = /** @type {HTMLElement} */ ($("#sessions tbody"));
  const rows = list.map((/** @type {any} */ s, /** @type {number} */ i) => {
    const returnCell = el("td", { className: "num" });
    if (i < RETURN_ROWS) fillReturn(s.id, returnCell);
    return el("tr", { dataset: { session: s.id, status: s.status } },
      el("td", {}, el("a", { href: `/sessions/${s.id}`, dataset: { link: "" } },
        s.id.slice(0, 8))),
      el("td", {}, `${s.symbol} ${s.timeframe}`),
      el("td", {}, s.profileSlug),
      el("td", {}, el("span", { className: `badge ${s.status}` }, s.status)),
      el("td", { className: "num" }, `${(s.progress * 100).toFixed(1)}%`),
      returnCell,
      el("td", {}, s.createdAt.slice(0, 19).replace("T", " ")));
  });
  body.replaceChildren(...rows);
  $("#sessions-empty").hidden = list.length > 0;
}

/** Return so far, from the newest equity snapshot: equity = initial + realized + unrealized. */
async function fillReturn(/** @type {string} */ id, /** @type {HTMLElement} */ cell) {
  try {
    const [last] = (await api(`/api/sim/sessions/${id}/equity?tail=1`)).equity;
    if (!last) return;
    const initial = last.equity - last.realizedPnl - last.unrealizedPnl;
    const pct = (last.equity / initial - 1) * 100;
    cell.textContent = `${pct >= 0 ? "+" : ""}${pct.toFixed(2)}%`;
    cell.className = `num ${pct >= 0 ? "gain" : "loss"}`;
  } catch {
    cell.textContent = "";
  }
}

let formReady = false;

async function loadForm() {
  const form = /** @type {HTMLFormElement} */ ($("#create-form"));
  const importForm = /** @type {HTMLFormElement} */ ($("#import-form"));
  const [marketList, profileList] = await Promise.all([
    api("/api/markets").then((r) => r.markets), api("/api/profiles").then((r) => r.profiles)]);
  markets = Object.fromEntries(marketList.map((/** @type {any} */ m) => [
    `${m.symbol}|${m.timeframe}`, m]));
  profiles = Object.fromEntries(profileList.map((/** @type {any} */ p) => [p.slug, p]));
  const marketSelect = /** @type {HTMLSelectElement} */ (form.elements.namedItem("market"));
  const keep = marketSelect.value;
  marketSelect.replaceChildren(...marketList.map((/** @type {any} */ m) => el("option",
    { value: `${m.symbol}|${m.timeframe}` },
    `${m.symbol} ${m.timeframe} · ${utc(m.fromMs)} → ${utc(m.toMs)} · ${m.count} candles`)));
  if (keep && markets[keep]) marketSelect.value = keep;
  if (!marketList.length) marketSelect.append(el("option", { value: "" }, "no markets: import a CSV"));
  const profileSelect = /** @type {HTMLSelectElement} */ (form.elements.namedItem("profileSlug"));
  if (!profileSelect.options.length) {
    profileSelect.append(...profileList.map((/** @type {any} */ p) => el("option",
      { value: p.slug }, p.slug)));
  }
  const timeframeSelect = /** @type {HTMLSelectElement} */ (
    importForm.elements.namedItem("timeframe"));
  if (!timeframeSelect.options.length) {
    timeframeSelect.append(...TIMEFRAMES.map((t) => el("option", { value: t }, t)));
  }
  if (formReady) return;
  formReady = true;
  marketSelect.addEventListener("change", () => fillRange(form));
  profileSelect.addEventListener("change", () => renderConfig(form));
  fillRange(form);
  renderConfig(form);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitCreate(form);
  });
  importForm.addEventListener("submit", (event) => {
    event.preventDefault();
    submitImport(importForm);
  });
}

function fillRange(/** @type {HTMLFormElement} */ form) {
  const market = markets[/** @type {HTMLSelectElement} */ (form.elements.namedItem("market")).value];
  if (!market) return;
  /** @type {HTMLInputElement} */ (form.elements.namedItem("startMs")).value = toLocalInput(market.fromMs);
  /** @type {HTMLInputElement} */ (form.elements.namedItem("endMs")).value = toLocalInput(market.toMs);
}

/** One input per config key of the profile: its type, default and meaning. */
function renderConfig(/** @type {HTMLFormElement} */ form) {
  const profile = profiles[/** @type {HTMLSelectElement} */ (
    form.elements.namedItem("profileSlug")).value];
  const box = /** @type {HTMLElement} */ ($("#config-fields"));
  $("#profile-description").textContent = profile ? profile.description : "";
  box.replaceChildren(el("legend", {}, "Config (empty = default)"));
  if (!profile) return;
  for (const [key, spec] of Object.entries(profile.keys)) {
    const name = `config.${key}`;
    const placeholder = spec.default == null ? "none" : String(spec.default);
    /** @type {HTMLElement} */
    let input;
    if (spec.type === "boolean") {
      input = el("select", { name }, el("option", { value: "" }, `default (${placeholder})`),
        el("option", { value: "true" }, "true"), el("option", { value: "false" }, "false"));
    } else if (spec.type === "choice") {
      input = el("select", { name }, el("option", { value: "" }, `default (${placeholder})`),
        ...spec.choices.map((/** @type {string} */ c) => el("option", { value: c }, c)));
    } else {
      input = el("input", { name, placeholder, size: 8, inputMode: "decimal",
        dataset: { type: spec.type } });
    }
    const range = spec.range ? ` (${spec.range.min} … ${spec.range.max})` : "";
    box.append(el("label", { className: "config", title: spec.meaning },
      el("span", { className: "key" }, key), input,
      el("small", { className: "muted" }, `${spec.type}${range}: ${spec.meaning}`)));
  }
}

/** The form's config overrides: only the keys given a value. */
function configOf(/** @type {HTMLFormElement} */ form) {
  /** @type {Record<string, any>} */
  const config = {};
  for (const input of form.querySelectorAll("[name^='config.']")) {
    const field = /** @type {HTMLInputElement} */ (input);
    const raw = field.value.trim();
    if (raw === "") continue;
    const key = field.name.slice("config.".length);
    if (raw === "true" || raw === "false") config[key] = raw === "true";
    else if (field.dataset.type === "number" || field.dataset.type === "integer") {
      // not a number: sent as typed, so the API's message lands next to the field
      config[key] = raw === "null" ? null : (Number.isFinite(Number(raw)) ? Number(raw) : raw);
    } else config[key] = raw;
  }
  return config;
}

async function submitCreate(/** @type {HTMLFormElement} */ form) {
  clearErrors(form);
  const value = (/** @type {string} */ name) => /** @type {HTMLInputElement} */ (
    form.elements.namedItem(name)).value.trim();
  const [symbol, timeframe] = value("market").split("|");
  const speed = value("speed");
  const body = {
    profileSlug: value("profileSlug"), symbol, timeframe,
    startMs: fromLocalInput(value("startMs")), endMs: fromLocalInput(value("endMs")),
    speed: speed === "max" || speed === "" || !Number.isFinite(Number(speed)) ? speed
      : Number(speed),
    gapPolicy: value("gapPolicy"), config: configOf(form),
  };
  if (Number.isNaN(body.startMs)) body.startMs = value("startMs");
  if (Number.isNaN(body.endMs)) body.endMs = value("endMs");
  const button = /** @type {HTMLButtonElement} */ (form.querySelector("button[type=submit]"));
  button.disabled = true;
  try {
    const session = await createSession(body);
    navigate(`/sessions/${session.id}`);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showCreateError(form, error);
  } finally {
    button.disabled = false;
  }
}

function showCreateError(/** @type {HTMLFormElement} */ form, /** @type {ApiError} */ error) {
  let problems = error.fieldProblems();
  // every field is a full path (config keys as config.fast); unknown_profile gives one
  if (!problems.length && error.details && error.details.field) {
    problems = [{ field: error.details.field, message: error.message }];
  }
  let message = error.message;
  if (error.code === "candle_gaps" && Array.isArray(error.body.gaps)) {
    message += ": " + error.body.gaps.slice(0, 5).map((/** @type {any} */ g) =>
      `${utc(g.fromMs)} → ${utc(g.toMs)} (${g.missing} missing)`).join(", ")
      + " · choose “skip gaps” to replay across them";
  }
  showErrors(form, problems, message);
}

async function submitImport(/** @type {HTMLFormElement} */ form) {
  clearErrors(form);
  const list = /** @type {HTMLElement} */ ($("#import-errors"));
  const result = /** @type {HTMLElement} */ ($("#import-result"));
  list.hidden = true;
  result.hidden = true;
  const symbol = /** @type {HTMLInputElement} */ (form.elements.namedItem("symbol")).value.trim();
  const timeframe = /** @type {HTMLSelectElement} */ (form.elements.namedItem("timeframe")).value;
  const file = /** @type {HTMLInputElement} */ (form.elements.namedItem("file")).files?.[0];
  if (!file) {
    showErrors(form, [{ field: "file", message: "choose a CSV file" }]);
    return;
  }
  const query = new URLSearchParams({ symbol, timeframe });
  try {
    const answer = await api(`/api/candles/import?${query}`, { method: "POST",
      body: await file.text(), contentType: "text/csv" });
    result.textContent = `Imported ${answer.imported} candle(s), ${answer.unchanged} unchanged: `
      + `${answer.symbol} ${answer.timeframe} ${utc(answer.fromMs)} → ${utc(answer.toMs)}`;
    result.hidden = false;
    await loadForm(); // the new market appears in the picker
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    // the importer's line-numbered problems sit beside details: error.errors
    const lines = Array.isArray(error.body.errors) ? error.body.errors
      : error.body.line ? [{ line: error.body.line, message: error.message }] : [];
    showErrors(form, error.fieldProblems(), error.message);
    list.replaceChildren(...lines.map((/** @type {any} */ e) => el("li", {},
      el("span", { className: "line" }, `line ${e.line}`), ` ${e.message}`)));
    list.hidden = !lines.length;
  }
}
