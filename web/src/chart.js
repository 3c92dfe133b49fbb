// The live chart: candles with fill and trade markers, stop-loss / take-profit lines while
// a trade is open, and panes for equity and drawdown. Fed in batches (one per animation
// frame) by the page; never touched per event.
//
// Measured on lightweight-charts 5.2: `update()` costs time in proportion to the bars
// already shown (~5 ms each at 90k bars) and `setData()` of 100k bars about a second.
// So the chart shows the newest WINDOW_BARS candles (the whole run stays in the page's
// memory, the stats and the downloads), appends one by one while few arrive, and redraws
// the window at most every REDRAW_MS while a "max" replay pours in.

import {
  AreaSeries,
  CandlestickSeries,
  createChart,
  createSeriesMarkers,
  LineSeries,
  LineStyle,
} from "lightweight-charts";

// Up to this many new bars a frame are appended one by one; more redraw the window.
const UPDATE_LIMIT = 50;
export const WINDOW_BARS = 2000;
const REDRAW_MS = 250;
const COLORS = { up: "#26a69a", down: "#ef5350", equity: "#2962ff", drawdown: "#ef5350",
  stop: "#ef5350", target: "#26a69a", text: "#d1d4dc", grid: "#2a2e39", bg: "#131722",
  user: "#ffb300" };

/** @param {number} ms */
const toTime = (ms) => /** @type {import("lightweight-charts").UTCTimestamp} */ (ms / 1000);

/** @param {number} value */
const money = (value) => (value >= 0 ? "+" : "") + value.toFixed(2);

export class ReplayChart {
  /** @param {HTMLElement} container @param {HTMLElement} tooltip */
  constructor(container, tooltip) {
    this.tooltip = tooltip;
    this.chart = createChart(container, {
      autoSize: true,
      layout: { background: { color: COLORS.bg }, textColor: COLORS.text,
        panes: { separatorColor: COLORS.grid } },
      grid: { vertLines: { color: COLORS.grid }, horzLines: { color: COLORS.grid } },
      timeScale: { timeVisible: true, secondsVisible: false },
      // a fixed axis width: a label growing by a digit would resize every canvas
      rightPriceScale: { minimumWidth: 84 },
    });
    this.candles = this.chart.addSeries(CandlestickSeries, {
      upColor: COLORS.up, downColor: COLORS.down, wickUpColor: COLORS.up,
      wickDownColor: COLORS.down, borderVisible: false });
    this.equity = this.chart.addSeries(LineSeries, { color: COLORS.equity, lineWidth: 2,
      title: "equity" }, 1);
    this.drawdown = this.chart.addSeries(AreaSeries, { lineColor: COLORS.drawdown,
      topColor: "rgba(239,83,80,0.05)", bottomColor: "rgba(239,83,80,0.4)", lineWidth: 1,
      title: "drawdown %", invertFilledArea: true }, 2);
    const panes = this.chart.panes();
    panes[0].setStretchFactor(0.64);
    panes[1].setStretchFactor(0.22);
    panes[2].setStretchFactor(0.14);
    this.markers = createSeriesMarkers(this.candles, []);
    /** @type {any[]} */ this.bars = [];
    /** @type {any[]} */ this.equityPoints = [];
    /** @type {any[]} */ this.drawdownPoints = [];
    /** @type {any[]} */ this.markerList = [];
    /** @type {Map<number, string[]>} time (s) -> tooltip lines */
    this.notes = new Map();
    /** @type {any[]} */ this.levels = [];
    this.pendingBars = 0;
    this.pendingEquity = 0;
    this.markersChanged = false;
    this.shownBars = 0;
    this.lastRedraw = -Infinity;
    this.chart.subscribeCrosshairMove((param) => this.hover(param));
  }

  /** A candle event's payload. @param {{ts: number, open: number, high: number, low: number, close: number}} candle */
  addCandle(candle) {
    this.bars.push({ time: toTime(candle.ts), open: candle.open, high: candle.high,
      low: candle.low, close: candle.close });
    this.pendingBars += 1;
  }

  /** An equity event. @param {number} ts @param {{equity: number, drawdownPct: number}} snapshot */
  addEquity(ts, snapshot) {
    this.equityPoints.push({ time: toTime(ts), value: snapshot.equity });
    this.drawdownPoints.push({ time: toTime(ts), value: -snapshot.drawdownPct });
    this.pendingEquity += 1;
  }

  /**
   * An order_filled event: an arrow at its bar; a person's (or a bot's) fills are squares in
   * their own colour, so they stand apart from the strategy's and the broker's.
   * @param {number} ts @param {any} fill @param {string} [source] the order's source
   */
  addFill(ts, fill, source = "strategy") {
    const buy = fill.side === "buy";
    const user = source === "user";
    this.markerList.push({ time: toTime(ts), position: buy ? "belowBar" : "aboveBar",
      shape: user ? "square" : buy ? "arrowUp" : "arrowDown",
      color: user ? COLORS.user : buy ? COLORS.up : COLORS.down,
      text: `${user ? "you " : ""}${fill.side} ${fill.qty}`, id: `fill-${fill.orderId}` });
    this.note(ts, `${user ? "your " : ""}${fill.side} ${fill.qty} @ ${fill.price}`);
    this.markersChanged = true;
  }

  /** A trade_closed event: its P&L at the exit bar, entry and exit on hover. @param {any} trade */
  addClosedTrade(ts, trade) {
    const win = trade.pnl >= 0;
    this.markerList.push({ time: toTime(ts), position: trade.side === "long" ? "aboveBar"
      : "belowBar", shape: "circle", color: win ? COLORS.up : COLORS.down,
    text: money(trade.pnl), id: `trade-${trade.tradeId}` });
    this.note(ts, `trade #${trade.tradeId} ${trade.side} closed: P&L ${money(trade.pnl)} `
      + `(entry ${trade.entryPrice}, exit ${trade.exitPrice})`);
    this.note(trade.entryTs, `trade #${trade.tradeId} ${trade.side} entry ${trade.entryPrice}`);
    this.markersChanged = true;
  }

  /** Stop-loss / take-profit lines for the open trade (none given: no lines). */
  showLevels(/** @type {{stop: number|null, target: number|null}} */ levels) {
    this.clearLevels();
    if (levels.stop != null) {
      this.levels.push(this.candles.createPriceLine({ price: levels.stop, color: COLORS.stop,
        lineStyle: LineStyle.Dashed, lineWidth: 1, axisLabelVisible: true, title: "SL" }));
    }
    if (levels.target != null) {
      this.levels.push(this.candles.createPriceLine({ price: levels.target,
        color: COLORS.target, lineStyle: LineStyle.Dashed, lineWidth: 1,
        axisLabelVisible: true, title: "TP" }));
    }
  }

  clearLevels() {
    for (const line of this.levels) this.candles.removePriceLine(line);
    this.levels = [];
  }

  /**
   * Draw what arrived since the last call (once per animation frame). Returns false when
   * it held a redraw back (too soon after the last one): call it again next frame.
   */
  flush(force = false) {
    if (!this.pendingBars && !this.pendingEquity && !this.markersChanged) return true;
    const many = this.pendingBars > UPDATE_LIMIT || this.pendingEquity > UPDATE_LIMIT
      || this.shownBars + this.pendingBars > 2 * WINDOW_BARS;
    if (many) {
      const now = performance.now();
      if (!force && now - this.lastRedraw < REDRAW_MS) return false;
      this.lastRedraw = now;
      this.redraw();
    } else {
      for (const bar of this.bars.slice(this.bars.length - this.pendingBars)) {
        this.candles.update(bar);
      }
      const from = this.equityPoints.length - this.pendingEquity;
      for (let i = from; i < this.equityPoints.length; i += 1) {
        this.equity.update(this.equityPoints[i]);
        this.drawdown.update(this.drawdownPoints[i]);
      }
      this.shownBars += this.pendingBars;
      if (this.markersChanged) this.markers.setMarkers(this.visibleMarkers());
    }
    this.pendingBars = 0;
    this.pendingEquity = 0;
    this.markersChanged = false;
    return true;
  }

  /** Replace the chart's data with the newest window. */
  redraw() {
    const bars = this.bars.slice(-WINDOW_BARS);
    this.candles.setData(bars);
    this.equity.setData(this.equityPoints.slice(-WINDOW_BARS));
    this.drawdown.setData(this.drawdownPoints.slice(-WINDOW_BARS));
    this.shownBars = bars.length;
    this.markers.setMarkers(this.visibleMarkers());
  }

  visibleMarkers() {
    const first = this.bars.length > WINDOW_BARS ? this.bars[this.bars.length - WINDOW_BARS].time
      : -Infinity;
    if (first === -Infinity) return this.markerList;
    return this.markerList.filter((marker) => marker.time >= first);
  }

  /** @param {number} ts @param {string} line */
  note(ts, line) {
    const time = toTime(ts);
    const lines = this.notes.get(time) || [];
    lines.push(line);
    this.notes.set(time, lines);
  }

  /** @param {import("lightweight-charts").MouseEventParams} param */
  hover(param) {
    const lines = param.time !== undefined ? this.notes.get(/** @type {number} */ (param.time))
      : undefined;
    if (!lines || !param.point) {
      this.tooltip.hidden = true;
      return;
    }
    this.tooltip.textContent = lines.join("\n");
    this.tooltip.style.left = `${param.point.x + 16}px`;
    this.tooltip.style.top = `${param.point.y + 16}px`;
    this.tooltip.hidden = false;
  }

  /**
   * Call `pick(ts, price)` on a click on the candles: the bar's time and the price under
   * the pointer. @param {(ts: number, price: number) => void} pick
   */
  onPick(pick) {
    this.chart.subscribeClick((param) => {
      if (param.time === undefined || !param.point) return;
      const at = this.candles.coordinateToPrice(param.point.y);
      if (at != null) pick(/** @type {number} */ (param.time) * 1000, Number(at));
    });
  }

  /** The y coordinate of `price` on the candles, or null. @param {number} price */
  yOf(price) {
    return this.candles.priceToCoordinate(price);
  }

  /** The x coordinate of the bar at `ts` (epoch ms) on the chart, or null when not shown. */
  xOf(/** @type {number} */ ts) {
    return this.chart.timeScale().timeToCoordinate(toTime(ts));
  }

  /** For tests and the page: what the chart shows, and what it received. */
  summary() {
    return { bars: this.candles.data().length, markers: this.markers.markers().length,
      equity: this.equity.data().length, levels: this.levels.length,
      receivedBars: this.bars.length, receivedMarkers: this.markerList.length,
      userFills: this.markerList.filter((m) => m.shape === "square").length,
      lastTs: this.bars.length ? this.bars[this.bars.length - 1].time * 1000 : null,
      low: this.bars.length ? Math.min(...this.bars.slice(-WINDOW_BARS).map((b) => b.low))
        : null };
  }

  remove() {
    this.chart.remove();
  }
}
