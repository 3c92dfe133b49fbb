// One session: the live chart, readout, event feed and controls; results once it ends.
//
// Events are queued as they arrive and applied once per animation frame, so a "max"
// replay of 100k candles (several hundred thousand events) never blocks the tab: the
// chart and the DOM are touched at most once a frame whatever the event rate.

import { ReplayChart } from "./chart.js";
import {
  ApiError, control, download, getSession, openSessionStream, TERMINAL_STATUSES,
  TERMINAL_TYPES, api,
} from "./client.js";
import { el, num, utc } from "./dom.js";
import { openTrading } from "./trade.js";

const FEED_ROWS = 40;
const TRADE_ROWS = 200;
const STATUS_POLL_MS = 2000;
const SPEEDS = ["1", "5", "10", "30", "60", "200", "1000", "max"];
const FEED_TYPES = new Set(["order_submitted", "order_filled", "order_rejected", "trade_opened",
  "trade_closed", "session_started", "session_finished", "session_stopped", "session_failed",
  "account_liquidated", "order_cancelled", "order_expired", "cancel_rejected"]);
// events that change the open orders: the list is re-read (once a frame at most)
const ORDER_TYPES = new Set(["order_submitted", "order_filled", "order_rejected",
  "order_cancelled", "order_expired", "account_liquidated", "trade_closed"]);
const STAT_LABELS = {
  finalEquity: ["Final equity", 2], returnPct: ["Return %", 2],
  buyAndHoldReturnPct: ["Buy & hold %", 2], trades: ["Trades", 0],
  winRatePct: ["Win rate %", 1], profitFactor: ["Profit factor", 2],
  maxDrawdownPct: ["Max drawdown %", 2], sharpe: ["Sharpe", 2],
  exposurePct: ["Exposure %", 1], commissions: ["Commissions", 2],
};

const $ = (/** @type {string} */ selector) => /** @type {HTMLElement} */ (
  document.querySelector(selector));

/** What the page exposes for tests and measurements (window.__livesim). */
function probe() {
  const w = /** @type {any} */ (window);
  w.__livesim = w.__livesim || {};
  return w.__livesim;
}

/** @param {string} id */
export function openDesk(id) {
  $("#session").hidden = false;
  $("#results").hidden = true;
  const chartBox = $("#chart");
  chartBox.replaceChildren();
  const chart = new ReplayChart(chartBox, $("#tooltip"));
  const state = {
    /** @type {any[]} */ queue: [],
    /** @type {any} */ started: null,
    /** @type {any} */ lastEquity: null,
    /** @type {any} */ openTrade: null,
    lastCandleTs: /** @type {number | null} */ (null),
    candles: 0,
    /** @type {string[]} */ feed: [],
    feedChanged: false,
    status: "",
    ended: false,
    frame: 0,
    /** @type {Map<number, any>} orderId -> its order_submitted payload */ orders: new Map(),
    /** @type {any} */ lastFill: null,
    ordersChanged: false,
  };
  const trading = openTrading(id);
  chart.onPick((ts, at) => trading.pick(ts, at));
  const exposed = probe();
  exposed.seqs = [];
  exposed.chart = () => chart.summary();
  exposed.xOf = (/** @type {number} */ ts) => chart.xOf(ts);
  exposed.yOf = (/** @type {number} */ at) => chart.yOf(at);
  exposed.frames = 0;
  exposed.streamStates = [];
  exposed.timing = { apply: 0, flush: 0, render: 0, maxFrame: 0 }; // ms spent per part

  const stream = openSessionStream(id, {
    onEvent: (event) => {
      if (!exposed.seqs.length) exposed.firstEventAt = performance.now();
      exposed.seqs.push(event.seq);
      state.queue.push(event);
      if (!state.frame) state.frame = requestAnimationFrame(drain);
    },
    onState: (streamState) => {
      exposed.streamStates.push(streamState);
      const badge = $("#stream-state");
      badge.textContent = streamState === "reconnecting" ? "reconnecting…" : streamState;
      badge.className = `badge stream-${streamState}`;
    },
  });
  exposed.stream = stream;

  function drain() {
    state.frame = 0;
    exposed.frames += 1;
    const events = state.queue;
    state.queue = [];
    const t0 = performance.now();
    for (const event of events) apply(event);
    const t1 = performance.now();
    // held back (a redraw too soon after the last): try again next frame
    if (!chart.flush(state.ended) && !state.frame) state.frame = requestAnimationFrame(drain);
    const t2 = performance.now();
    render();
    const t3 = performance.now();
    const timing = exposed.timing;
    timing.apply += t1 - t0;
    timing.flush += t2 - t1;
    timing.render += t3 - t2;
    timing.maxFrame = Math.max(timing.maxFrame, t3 - t0);
  }

  /** @param {any} event */
  function apply(event) {
    const p = event.payload;
    switch (event.type) {
      case "session_started":
        state.started = p;
        break;
      case "candle":
        chart.addCandle(p);
        state.candles += 1;
        state.lastCandleTs = p.ts;
        break;
      case "equity":
        chart.addEquity(event.ts, p);
        state.lastEquity = p;
        break;
      case "order_submitted":
        state.orders.set(p.orderId, p);
        break;
      case "order_filled":
        state.lastFill = state.orders.get(p.orderId) || null;
        chart.addFill(event.ts, p, state.lastFill ? state.lastFill.source : undefined);
        break;
      case "trade_opened":
        state.openTrade = p;
        chart.showLevels(levels(p, state.started ? state.started.config : {}, state.lastFill));
        break;
      case "trade_closed":
        state.openTrade = null;
        chart.clearLevels();
        chart.addClosedTrade(event.ts, p);
        break;
      default:
        break;
    }
    if (FEED_TYPES.has(event.type)) {
      state.feed.push(`${utc(event.ts)} #${event.seq} ${describe(event)}`);
      state.feedChanged = true;
    }
    if (ORDER_TYPES.has(event.type)) state.ordersChanged = true;
    if (TERMINAL_TYPES.has(event.type)) finish(event);
  }

  function render() {
    const total = state.started ? state.started.candleCount : 0;
    const share = total ? state.candles / total : 0;
    $("#progress-bar").style.width = `${(share * 100).toFixed(2)}%`;
    $("#progress-text").textContent = `${state.candles} / ${total} candles · `
      + `${utc(state.lastCandleTs)} UTC`;
    const e = state.lastEquity;
    const t = state.openTrade;
    const rows = [["Equity", num(e?.equity)], ["Cash", num(e?.cash)],
      ["Position", e ? String(e.positionQty) : ""],
      ["Open trade", t ? `#${t.tradeId} ${t.side} ${t.qty} @ ${t.entryPrice}` : "none"],
      ["Unrealized P&L", num(e?.unrealizedPnl)], ["Realized P&L", num(e?.realizedPnl)],
      ["Drawdown %", num(e?.drawdownPct)]];
    $("#readout").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k),
      el("dd", {}, v)]));
    if (state.feedChanged) {
      state.feed = state.feed.slice(-FEED_ROWS);
      $("#feed").replaceChildren(...state.feed.slice().reverse().map((line) => el("li", {}, line)));
      state.feedChanged = false;
    }
    if (state.ordersChanged) {
      state.ordersChanged = false;
      trading.refresh();
    }
  }

  async function finish(/** @type {any} */ event) {
    state.ended = true;
    probe().endedAt = performance.now();
    showStatus(event.type.replace("session_", ""));
    const results = $("#results");
    results.hidden = false;
    $("#results-title").textContent = event.type === "session_failed"
      ? `Failed: ${JSON.stringify(event.payload.error)}` : `Results (${event.type.replace("session_", "")})`;
    const stats = event.payload.stats || {};
    $("#stats").replaceChildren(...Object.entries(STAT_LABELS).flatMap(([key, [label, digits]]) =>
      [el("dt", {}, label), el("dd", { dataset: { stat: key } },
        stats[key] == null ? "–" : num(stats[key], Number(digits)))]));
    const trades = (await api(`/api/sim/sessions/${id}/trades`)).trades;
    const shownAt = performance.now();
    // thousands of rows would cost the tab a long layout: the newest ones, all in the CSV
    const shown = trades.slice(-TRADE_ROWS);
    $("#trades-note").textContent = shown.length < trades.length
      ? `The newest ${shown.length} of ${trades.length} trades; all of them in trades (CSV).` : "";
    $("#trades tbody").replaceChildren(...shown.map((/** @type {any} */ t) => el("tr",
      { dataset: { trade: t.tradeId } },
      el("td", {}, String(t.tradeId)), el("td", {}, t.side), el("td", { className: "num" },
        String(t.qty)), el("td", {}, utc(t.entryTs)), el("td", { className: "num" },
        price(t.entryPrice)), el("td", {}, utc(t.exitTs)), el("td", { className: "num" },
        price(t.exitPrice)), el("td", { className: `num ${t.pnl >= 0 ? "gain" : "loss"}` },
        num(t.pnl)), el("td", { className: "num" }, num(t.commission)))));
    exposed.timing.results = performance.now() - shownAt;
    probe().finished = true;
  }

  function showStatus(/** @type {string} */ status) {
    state.status = status;
    const badge = $("#session-status");
    badge.textContent = status;
    badge.className = `badge ${status}`;
    const live = !TERMINAL_STATUSES.has(status);
    /** @type {HTMLButtonElement} */ ($("#play")).disabled = !live || status !== "paused";
    /** @type {HTMLButtonElement} */ ($("#pause")).disabled = !live || status === "paused";
    /** @type {HTMLButtonElement} */ ($("#stop")).disabled = !live;
    /** @type {HTMLSelectElement} */ ($("#speed")).disabled = !live;
    for (const button of document.querySelectorAll("#trading button")) {
      /** @type {HTMLButtonElement} */ (button).disabled = !live; // nothing to trade once over
    }
  }

  async function poll() {
    try {
      const session = await getSession(id);
      $("#session-title").textContent = `${session.symbol} ${session.timeframe} · `
        + `${session.profileSlug} · ${id.slice(0, 8)}`;
      if (!state.ended) showStatus(session.status);
      const speed = /** @type {HTMLSelectElement} */ ($("#speed"));
      const current = String(session.speed);
      if (![...speed.options].some((o) => o.value === current)) {
        speed.append(el("option", { value: current }, current));
      }
      if (document.activeElement !== speed) speed.value = current;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        $("#session-title").textContent = "No such session";
      }
    }
  }

  /** @param {"pause"|"resume"|"stop"|"speed"} action @param {any} [speed] */
  async function act(action, speed) {
    try {
      const session = await control(id, action, speed);
      if (!state.ended) showStatus(session.status);
    } catch (error) {
      if (error instanceof ApiError) $("#session-title").title = error.message;
    }
  }

  const speedSelect = /** @type {HTMLSelectElement} */ ($("#speed"));
  const maxSpeed = probe().config ? probe().config.maxSpeed : Infinity; // the server's limit
  speedSelect.replaceChildren(...SPEEDS.filter((s) => s === "max" || Number(s) <= maxSpeed)
    .map((s) => el("option", { value: s }, s === "max" ? "max" : `${s}×`)));
  const handlers = [
    [$("#play"), "click", () => act("resume")],
    [$("#pause"), "click", () => act("pause")],
    [$("#stop"), "click", () => act("stop")],
    [speedSelect, "change", () => act("speed", speedSelect.value === "max" ? "max"
      : Number(speedSelect.value))],
    ...[...document.querySelectorAll("[data-download]")].map((button) => [button, "click",
      () => save(id, /** @type {HTMLElement} */ (button).dataset.download || "")]),
  ];
  for (const [node, type, fn] of handlers) node.addEventListener(type, fn);
  poll();
  const timer = setInterval(poll, STATUS_POLL_MS);
  $("#feed").replaceChildren();

  return {
    close() {
      clearInterval(timer);
      stream.close();
      trading.close();
      if (state.frame) cancelAnimationFrame(state.frame);
      for (const [node, type, fn] of handlers) node.removeEventListener(type, fn);
      chart.remove();
    },
  };
}

/** A price for a person: at most 6 decimals, no trailing zeros. */
const price = (/** @type {number} */ value) => String(Number(value.toFixed(6)));

/**
 * Stop-loss / take-profit prices of an open trade: those of the order that opened it (an
 * outside order's stopLoss / takeProfit), else from the session's config percentages.
 */
function levels(/** @type {any} */ trade, /** @type {any} */ config, /** @type {any} */ order) {
  if (order && (order.stopLoss != null || order.takeProfit != null)) {
    return { stop: order.stopLoss ?? null, target: order.takeProfit ?? null };
  }
  const sign = trade.side === "long" ? 1 : -1;
  const at = (/** @type {number | null} */ pct, /** @type {number} */ direction) => (
    pct == null ? null : trade.entryPrice * (1 + (direction * sign * pct) / 100));
  return { stop: at(config.stopLossPct, -1), target: at(config.takeProfitPct, 1) };
}

function describe(/** @type {any} */ event) {
  const p = event.payload;
  switch (event.type) {
    case "order_submitted": return `order ${p.orderId} ${p.source === "user" ? "(you) " : ""}`
      + `${p.type || "market"} ${p.side} ${p.qty}${p.clientOrderId ? ` ${p.clientOrderId}` : ""}`
      + `${p.reason ? ` (${p.reason})` : ""}`;
    case "order_cancelled": return `cancelled ${p.orderId}`;
    case "order_expired": return `expired ${p.orderId}`;
    case "cancel_rejected": return `cancel refused ${p.clientOrderId || p.orderId || ""}: `
      + `${p.reason || ""}`;
    case "account_liquidated": return `account liquidated${p.equity != null ? `, equity `
      + `${num(p.equity)}` : ""}`;
    case "order_filled": return `filled ${p.orderId} ${p.side} ${p.qty} @ ${p.price}`;
    case "order_rejected": return `rejected ${p.orderId}: ${p.reason}`;
    case "trade_opened": return `opened #${p.tradeId} ${p.side} ${p.qty} @ ${p.entryPrice}`;
    case "trade_closed": return `closed #${p.tradeId} ${p.side} @ ${p.exitPrice} P&L ${num(p.pnl)}`;
    default: return event.type.replace("_", " ");
  }
}

/** The results as files; the API needs the auth headers, so fetch then save. */
function save(/** @type {string} */ id, /** @type {string} */ what) {
  const base = `/api/sim/sessions/${id}`;
  const paths = { "trades.csv": `${base}/trades?format=csv`,
    "equity.csv": `${base}/equity?format=csv`, "log.ndjson": `${base}/log.ndjson` };
  return download(/** @type {any} */ (paths)[what], `livesim-${id.slice(0, 8)}-${what}`);
}
