"""The session engine: one candle in, that candle's events out.

This is the whole simulation as seen by the runner.  ``step`` is called once per
candle, in order, with the outside inputs that take effect at that candle, and
returns the candle's events in SPEC §4 order:

1. ``candle``;
2. fills of the strategy's orders queued on the previous candle, at this open;
3. the outside inputs, in recorded order (market orders fill at this open);
4. stop-loss / take-profit exits of the open trade;
5. limit and stop orders this candle touches, then the ones that expire;
6. the strategy's orders (filled at once with ``fill: "close"``, rejected on the
   last candle), with their ``trade_closed`` / ``trade_opened``;
7. on the last candle with ``closeAtEnd``, the closing order of the open trade;
8. when equity at the close is <= 0, the liquidation and ``account_liquidated``;
9. ``equity``, always last.

Every event's ``ts`` is the candle's ``ts``.  The engine holds all the state it
depends on and reads nothing else (no clock, no randomness), so two engines fed the
same candles and the same inputs at the same indexes produce equal events, and a
runner that restarts simply rebuilds the engine and replays from candle 0 with the
recorded inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from livesim.sim.broker import Broker, BrokerParams
from livesim.sim.candles import Candle, timeframe_ms
from livesim.sim.events import CandleClosed, Event
from livesim.sim.inputs import Input
from livesim.sim.outside_orders import OutsideOrders
from livesim.sim.portfolio import Portfolio
from livesim.sim.profiles import build_strategy, resolve_config
from livesim.sim.schema import build_params
from livesim.sim.stats import StatsTracker
from livesim.sim.strategies import Strategy
from livesim.sim.strategy_orders import StrategyOrders


class SessionEngine:
    """Strategy + broker + portfolio + stats for one session."""

    def __init__(self, config: dict[str, Any], strategy: Strategy, *, timeframe: str,
                 candle_count: int) -> None:
        if candle_count < 0:
            raise ValueError("candle_count must not be negative")
        self.config = config
        self.strategy = strategy
        self.params: BrokerParams = build_params(BrokerParams, config)
        self.portfolio = Portfolio(self.params.initial_cash)
        self.broker = Broker(self.params, self.portfolio)
        self.strategy_orders = StrategyOrders(self.broker)
        self.outside_orders = OutsideOrders(self.broker)
        self.tracker = StatsTracker(self.params.initial_cash, timeframe_ms(timeframe))
        self.candle_count = candle_count
        self.index = 0
        # Bound once: step() runs per candle and is the replay's hot path.
        self._on_candle = strategy.on_candle
        self._mark = self.portfolio.mark
        self._record = self.tracker.record

    def step(self, candle: Candle, inputs: Sequence[Input] = ()) -> list[Event]:
        """Replay one candle with the outside ``inputs`` taking effect at it.

        Returns:
            The candle's events, ``candle`` first and ``equity`` last.

        Raises:
            ValueError: more candles than ``candle_count`` were stepped.
        """
        index = self.index
        if index >= self.candle_count:
            raise ValueError(f"candle {index} is past candle_count={self.candle_count}")
        self.index = index + 1
        is_last = index == self.candle_count - 1
        broker = self.broker
        ts = candle.ts
        out: list[Event] = [CandleClosed(ts, candle)]
        if broker.pending:
            broker.fill_pending(candle, out)
        if inputs:
            self.outside_orders.apply(inputs, candle, index, out)
        if self.portfolio.trade is not None:
            broker.check_exits(candle, out)
        if broker.working:
            broker.process_working(candle, index, out)
        intents = self._on_candle(candle)
        if intents:
            self.strategy_orders.submit(intents, candle, index, is_last, out)
        if is_last and self.params.close_at_end:
            broker.close_at_end(candle, out)
        snapshot = self._mark(ts, candle.close)
        if snapshot.equity <= 0.0 and not broker.liquidated:
            broker.liquidate(candle, out)
            snapshot = self._mark(ts, candle.close)
        out.append(snapshot)
        self._record(snapshot.equity, snapshot.drawdown_pct, snapshot.position_qty != 0,
                     candle.close)
        return out

    def open_orders(self) -> list[dict[str, Any]]:
        """The orders in the book after the last step (for ``GET .../orders``)."""
        return self.broker.open_orders()

    def order_id_for(self, client_order_id: str) -> int | None:
        """The engine's ``orderId`` of an outside order applied so far, else None."""
        return self.outside_orders.order_id_for(client_order_id)

    @property
    def liquidated(self) -> bool:
        """True once ``account_liquidated`` was written: every later order is rejected."""
        return self.broker.liquidated

    def stats(self) -> dict[str, Any]:
        """Statistics over the candles stepped so far (see :mod:`livesim.sim.stats`)."""
        return self.tracker.summary(self.portfolio)


def build_engine(profile_slug: str, overrides: Mapping[str, Any], *, timeframe: str,
                 candle_count: int) -> SessionEngine:
    """Resolve the profile's config with ``overrides`` and build a fresh engine.

    ``candle_count`` is the number of candles the session will replay, so the engine
    knows which one is last.

    Raises:
        UnknownProfile: no such profile.
        InvalidConfig: the overrides do not validate.
        UnknownTimeframe: the timeframe is not on the fixed grid.
    """
    config = resolve_config(profile_slug, overrides)
    strategy = build_strategy(profile_slug, config)
    return SessionEngine(config, strategy, timeframe=timeframe, candle_count=candle_count)
