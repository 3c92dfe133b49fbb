"""What a strategy may ask of the broker: order intents.

A strategy only says which way it wants to be; the broker decides what that means
for the account (close first, open a short only when ``allowShort``, size by
``sizeFraction``).  Keeping sizing and shorting out of strategies lets one strategy
run unchanged under every session config.

An intent may ask for a limit or stop entry instead of a market one, and attach an
absolute stop-loss / take-profit to the trade it opens.  The type applies to the
*opening* order only: closing the opposite trade is always a market order.  Every
new intent first cancels the strategy's unfilled limit/stop orders (each signal
supersedes the previous one, as backtesting.py's ``exclusive_orders``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    """The four things a strategy can want."""

    BUY = "buy"
    """Go long: close a short if one is open, then open a long unless already long."""
    SELL = "sell"
    """Go short or flat: close a long; open a short too when ``allowShort`` is on."""
    EXIT_LONG = "exit_long"
    """Close a long if one is open; nothing else."""
    EXIT_SHORT = "exit_short"
    """Close a short if one is open; nothing else."""


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """One signal of a strategy; ``reason`` ends up in ``order_submitted.reason``."""

    action: Action
    reason: str
    order_type: str = "market"
    """``market``, ``limit`` (needs ``limit_price``) or ``stop`` (needs ``stop_price``)."""
    limit_price: float | None = None
    stop_price: float | None = None
    stop_loss: float | None = None
    """Absolute price; overrides the session's ``stopLossPct`` for this trade."""
    take_profit: float | None = None
    """Absolute price; overrides the session's ``takeProfitPct`` for this trade."""
    expires_after_candles: int | None = None
    """A limit/stop order not filled within this many candles is ``order_expired``."""
