// Trading inside a replay: step and seek, speed in bars per second, the order ticket
// (buy / sell / close, market / limit / stop, qty or size fraction, optional SL/TP) and the
// open orders with a cancel button. Orders are inputs: the runner takes them at the next
// candle boundary, and the page learns what happened from the log like everyone else.

import {
  ApiError, cancelOrder, closePosition, listOrders, placeOrder, seek, setBarsPerSecond, step,
} from "./client.js";
import { el, fromLocalInput, toLocalInput } from "./dom.js";

const $ = (/** @type {string} */ selector) => /** @type {HTMLInputElement} */ (
  document.querySelector(selector));

/** A number typed in a field, or undefined when it is empty. @param {string} selector */
function numberIn(selector) {
  const text = $(selector).value.trim();
  return text === "" ? undefined : Number(text);
}

/**
 * Wire the trading panel to session `id`.
 * @param {string} id
 * @returns {{pick: (ts: number, price: number) => void, refresh: () => void,
 *   close: () => void}} `pick` takes a click on the chart (its time goes to the seek field,
 *   its price to the order's price field); `refresh` re-reads the open orders (call it
 *   when order events arrive; calls made while one is running fold into one more).
 */
export function openTrading(id) {
  let sequence = 0; // the page's own clientOrderIds: unique per page load and order
  const prefix = `web-${Date.now().toString(36)}`;
  let refreshing = false;
  let again = false;

  const say = (/** @type {string} */ text) => {
    $("#ticket-error").textContent = text;
  };
  /** @param {() => Promise<any>} call */
  const attempt = async (call) => {
    say("");
    try {
      await call();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const fields = error.fieldProblems().map((p) => `${p.field}: ${p.message}`);
      say([error.message, ...fields].join(" · "));
    }
    refresh();
  };

  const showPriceField = () => {
    $("#order-price").disabled = $("#order-type").value === "market";
  };

  /** @param {"buy"|"sell"} side */
  const order = (side) => attempt(() => {
    const type = /** @type {"market"|"limit"|"stop"} */ ($("#order-type").value);
    const size = numberIn("#order-size");
    /** @type {import("./client.js").OrderRequest} */
    const body = { clientOrderId: `${prefix}-${(sequence += 1)}`, side, type };
    if ($("#order-size-kind").value === "fraction") body.sizeFraction = size;
    else body.qty = size;
    const at = numberIn("#order-price");
    if (type === "limit") body.limitPrice = at;
    if (type === "stop") body.stopPrice = at;
    const stopLoss = numberIn("#order-sl");
    const takeProfit = numberIn("#order-tp");
    if (stopLoss !== undefined) body.stopLoss = stopLoss;
    if (takeProfit !== undefined) body.takeProfit = takeProfit;
    return placeOrder(id, body);
  });

  async function refresh() {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    try {
      do {
        again = false;
        const { orders, pending } = await listOrders(id);
        render(orders, pending);
      } while (again);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
    } finally {
      refreshing = false;
    }
  }

  /** @param {any[]} orders @param {any[]} pending */
  function render(orders, pending) {
    const rows = [
      ...pending.filter((p) => p.kind === "submit_order").map((p) => row(p, "pending")),
      ...orders.map((o) => row(o, "open")),
    ];
    $("#open-orders tbody").replaceChildren(...rows);
    $("#open-orders-empty").hidden = rows.length > 0;
  }

  /** @param {any} o @param {string} status */
  function row(o, status) {
    const at = o.limitPrice ?? o.stopPrice;
    const size = o.qty ?? (o.sizeFraction != null ? `${o.sizeFraction * 100}%` : "");
    const cancel = o.clientOrderId ? el("button", { className: "cancel-order",
      title: `cancel ${o.clientOrderId}`,
      onclick: () => attempt(() => cancelOrder(id, o.clientOrderId)) }, "Cancel") : "";
    return el("tr", { dataset: { order: o.clientOrderId || String(o.orderId) },
      title: o.clientOrderId || `order ${o.orderId}` },
    el("td", {}, `${o.side} ${o.type || "market"}`), el("td", { className: "num" }, String(size)),
    el("td", { className: "num" }, at == null ? "" : String(at)), el("td", {}, status),
    el("td", {}, cancel));
  }

  const handlers = [
    [$("#step"), "click", () => attempt(() => step(id, numberIn("#step-n") || 1))],
    [$("#seek"), "click", () => attempt(() => seek(id, fromLocalInput($("#seek-to").value)))],
    [$("#set-bps"), "click", () => attempt(() => setBarsPerSecond(id, numberIn("#bps") || 1))],
    [$("#buy"), "click", () => order("buy")],
    [$("#sell"), "click", () => order("sell")],
    [$("#close-position"), "click", () => attempt(() => closePosition(id))],
    [$("#order-type"), "change", showPriceField],
  ];
  for (const [node, type, fn] of handlers) node.addEventListener(type, fn);
  showPriceField();
  refresh();

  return {
    pick(ts, price) {
      $("#seek-to").value = toLocalInput(ts);
      // six significant digits: a pixel is worth less than that on any sane chart
      if ($("#order-type").value !== "market") {
        $("#order-price").value = String(Number(price.toPrecision(6)));
      }
    },
    refresh,
    close() {
      for (const [node, type, fn] of handlers) node.removeEventListener(type, fn);
    },
  };
}
