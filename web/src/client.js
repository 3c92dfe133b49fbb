// livesim's browser client: one small ES module for the page and for other front ends.
//
//   import { configure, createSession, openSessionStream, control } from "./client.js";
//   configure({ baseUrl: "", auth: devAuth("alice") });       // or oidcAuth(...) from auth.js
//   const session = await createSession({ profileSlug: "sma-cross", ... });
//   const stream = openSessionStream(session.id, { onEvent, onState });
//   await control(session.id, "pause");
//   stream.close();
//
// Streams use EventSource with short-lived stream tickets (a token never goes in a URL):
// every (re)connect first reads what it lacks in pages of the log (one fetch and one
// JSON.parse per thousand events, much cheaper for a browser than a thousand EventSource
// messages), then asks for a fresh ticket and follows live from the next seq, so a drop or
// a reload costs no event and repeats none.

/**
 * @typedef {{seq: number, ts: number, type: string, payload: Record<string, any>}} LogEvent
 * @typedef {"connecting" | "live" | "reconnecting" | "ended" | "closed" | "error"} StreamState
 * @typedef {{headers: () => Promise<Record<string, string>>, onUnauthorized?: () => void}} Auth
 * @typedef {{field: string, message: string}} FieldProblem
 */

/** The stream's event types (SPEC §5); EventSource needs one listener per named event. */
export const EVENT_TYPES = [
  "session_started", "candle", "order_submitted", "order_filled", "order_rejected",
  "trade_opened", "trade_closed", "equity", "session_finished", "session_stopped",
  "session_failed", "account_liquidated", "order_cancelled", "order_expired",
  "cancel_rejected",
];
export const TERMINAL_TYPES = new Set(["session_finished", "session_stopped", "session_failed"]);
export const TERMINAL_STATUSES = new Set(["stopped", "finished", "failed"]);
const CATCH_UP_PAGE = 1000; // the API's largest page of events
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 8000;

/** An error answer of the API: `{error: {code, message, details}}` and its HTTP status. */
export class ApiError extends Error {
  /** @param {number} status @param {{code?: string, message?: string, details?: any}} body */
  constructor(status, body) {
    super(body.message || `HTTP ${status}`);
    this.status = status;
    this.code = body.code || "http_error";
    this.details = body.details;
    /** The whole error object: data to act on sits beside code and message (gaps, errors). */
    this.body = body;
  }

  /** The `details: [{field, message}]` of a validation error, else []. @returns {FieldProblem[]} */
  fieldProblems() {
    return Array.isArray(this.details) ? this.details.filter((d) => d && d.field) : [];
  }
}

const settings = { baseUrl: "", /** @type {Auth} */ auth: { headers: async () => ({}) } };

/** Where the API is and how to authenticate. @param {{baseUrl?: string, auth?: Auth}} options */
export function configure(options) {
  Object.assign(settings, options);
}

/** Dev mode (`LIVESIM_AUTH=dev`): the user is sent as `X-Dev-User`. @param {() => string} user */
export function devAuth(user) {
  return { headers: async () => ({ "X-Dev-User": user() }) };
}

/**
 * One API call; JSON in and out unless `raw`. Throws {@link ApiError} on an error answer.
 * @param {string} path @param {{method?: string, body?: any, headers?: Record<string,string>,
 *   raw?: boolean, contentType?: string}} [options]
 */
export async function api(path, options = {}) {
  const headers = { ...(await settings.auth.headers()), ...(options.headers || {}) };
  /** @type {RequestInit} */
  const init = { method: options.method || "GET", headers };
  if (options.body !== undefined) {
    const json = options.contentType === undefined;
    headers["Content-Type"] = options.contentType || "application/json";
    init.body = json ? JSON.stringify(options.body) : options.body;
  }
  const response = await fetch(settings.baseUrl + path, init);
  if (!response.ok) {
    let body = {};
    try {
      body = (await response.json()).error || {};
    } catch {
      body = { message: `HTTP ${response.status}` };
    }
    if (response.status === 401 && settings.auth.onUnauthorized) settings.auth.onUnauthorized();
    throw new ApiError(response.status, body);
  }
  if (options.raw) return response;
  return response.status === 204 ? null : response.json();
}

/** Create and start a session (SPEC §6). @param {Record<string, any>} body */
export function createSession(body) {
  return api("/api/sim/sessions", { method: "POST", body });
}

/**
 * Pause, resume, stop, or change speed. @param {string} id
 * @param {"pause"|"resume"|"stop"|"speed"} action @param {number|"max"} [speed]
 */
export function control(id, action, speed) {
  const body = action === "speed" ? { action, speed } : { action };
  return api(`/api/sim/sessions/${encodeURIComponent(id)}/control`, { method: "POST", body });
}

/** Advance a paused session by `candles` candles. @param {string} id @param {number} candles */
export function step(id, candles = 1) {
  return api(`/api/sim/sessions/${encodeURIComponent(id)}/control`,
    { method: "POST", body: { action: "step", candles } });
}

/** Move a session's replay to the candle at `toMs` (epoch ms). @param {string} id @param {number} toMs */
export function seek(id, toMs) {
  return api(`/api/sim/sessions/${encodeURIComponent(id)}/control`,
    { method: "POST", body: { action: "seek", toMs } });
}

/** Replay speed in candles per second rather than a multiplier. @param {string} id @param {number} barsPerSecond */
export function setBarsPerSecond(id, barsPerSecond) {
  return api(`/api/sim/sessions/${encodeURIComponent(id)}/control`,
    { method: "POST", body: { action: "speed", barsPerSecond } });
}

/**
 * @typedef {{clientOrderId: string, side: "buy"|"sell", type: "market"|"limit"|"stop",
 *   qty?: number, sizeFraction?: number, limitPrice?: number, stopPrice?: number,
 *   stopLoss?: number, takeProfit?: number, expiresAfterCandles?: number}} OrderRequest
 */

/**
 * Place an order; the runner takes it at the next candle boundary. Resolves to
 * `{status: "pending"}` (or `"recorded"` when the same order was already taken).
 * @param {string} id @param {OrderRequest} order
 */
export function placeOrder(id, order) {
  return api(`/api/sim/sessions/${encodeURIComponent(id)}/orders`, { method: "POST", body: order });
}

/** Cancel an open or pending order. @param {string} id @param {string} clientOrderId */
export function cancelOrder(id, clientOrderId) {
  return api(`/api/sim/sessions/${encodeURIComponent(id)}/orders/${encodeURIComponent(clientOrderId)}`,
    { method: "DELETE" });
}

/** Close the open position at the next candle. @param {string} id */
export function closePosition(id) {
  return api(`/api/sim/sessions/${encodeURIComponent(id)}/position/close`, { method: "POST" });
}

/**
 * Open orders (from the log) and those not yet taken by the runner.
 * @param {string} id @returns {Promise<{orders: Record<string, any>[], pending: Record<string, any>[]}>}
 */
export function listOrders(id) {
  return api(`/api/sim/sessions/${encodeURIComponent(id)}/orders`);
}

/** One session, with `stats` once finished. @param {string} id */
export function getSession(id) {
  return api(`/api/sim/sessions/${encodeURIComponent(id)}`);
}

/**
 * Follow a session's log live: every event once, in seq order, across drops and reconnects.
 *
 * @param {string} id the session
 * @param {{fromSeq?: number, onEvent: (event: LogEvent) => void,
 *          onState?: (state: StreamState, detail?: any) => void}} options
 * @returns {{close: () => void, drop: () => void, nextSeq: () => number}}
 *   `close` stops for good; `drop` cuts the connection as a network failure would (the
 *   stream reconnects and resumes); `nextSeq` is the first seq not yet received.
 */
export function openSessionStream(id, { fromSeq = 1, onEvent, onState = () => {} }) {
  let nextSeq = fromSeq;
  /** @type {EventSource | null} */
  let source = null;
  let closed = false;
  let failures = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const path = `/api/sim/sessions/${encodeURIComponent(id)}`;

  const finish = (/** @type {StreamState} */ state, /** @type {any} */ detail) => {
    closed = true;
    clearTimeout(timer);
    if (source) source.close();
    source = null;
    onState(state, detail);
  };

  /** Hand on the next event; false if it is not the one expected. @param {LogEvent} event */
  const deliver = (event) => {
    if (event.seq < nextSeq) return true; // already had it (a replayed backlog)
    if (event.seq > nextSeq) return false; // never expected: the server sends in order
    nextSeq = event.seq + 1;
    onEvent(event);
    if (TERMINAL_TYPES.has(event.type)) finish("ended", event);
    return true;
  };

  const receive = (/** @type {MessageEvent} */ message) => {
    failures = 0;
    // out of order: fetch what is missing by reconnecting
    if (!deliver(JSON.parse(message.data))) reconnect();
  };

  /** Read the log from nextSeq in pages up to its end so far; false once it has ended. */
  const catchUp = async () => {
    for (;;) {
      const page = await api(`${path}/events?fromSeq=${nextSeq}&limit=${CATCH_UP_PAGE}`);
      for (const event of page.events) {
        if (!deliver(event)) return true; // out of order (never expected): stream from nextSeq
        if (closed) return false; // the terminal event: nothing more to follow
      }
      if (!page.hasMore) return !closed;
    }
  };

  const connect = async () => {
    if (closed) return;
    onState(failures === 0 && nextSeq === fromSeq ? "connecting" : "reconnecting");
    let ticket;
    try {
      if (!(await catchUp()) || closed) return;
      ticket = (await api(`${path}/stream-ticket`, { method: "POST" })).ticket;
    } catch (error) {
      if (error instanceof ApiError && error.status < 500 && error.status !== 429) {
        finish("error", error); // not found, not allowed: retrying will not help
      } else {
        reconnectLater();
      }
      return;
    }
    if (closed) return;
    const url = `${settings.baseUrl}${path}/stream?ticket=${encodeURIComponent(ticket)}`
      + `&fromSeq=${nextSeq}`;
    if (source) source.close(); // one connection at a time, whatever raced to here
    const current = new EventSource(url);
    source = current;
    current.onopen = () => {
      if (source === current) onState("live");
    };
    // Our own reconnect, not EventSource's: its retry would reuse an expired ticket.
    current.onerror = () => {
      if (source === current) reconnect();
    };
    for (const type of EVENT_TYPES) current.addEventListener(type, receive);
  };

  const reconnectLater = () => {
    if (closed) return;
    failures += 1;
    const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (failures - 1));
    onState("reconnecting");
    clearTimeout(timer); // one pending reconnect at a time
    timer = setTimeout(connect, delay);
  };

  const reconnect = async () => {
    if (source) source.close();
    source = null;
    if (closed) return;
    // A session that is over with nothing newer ends the stream (the server said 204).
    try {
      const session = await getSession(id);
      if (TERMINAL_STATUSES.has(session.status) && session.lastSeq < nextSeq) {
        finish("ended", null);
        return;
      }
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        finish("error", error);
        return;
      }
    }
    reconnectLater();
  };

  connect();
  return {
    close: () => finish("closed"),
    drop: () => {
      if (source && !closed) reconnect();
    },
    nextSeq: () => nextSeq,
  };
}

/** Save an API answer as a file (download links need the auth headers, so not a plain href). */
export async function download(path, filename) {
  const response = await api(path, { raw: true });
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
