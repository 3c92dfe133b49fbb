"""What a strategy may ask of the broker: order intents.

A strategy only says which way it wants to be; the broker decides what that means
for the account (close first, open a short only when ``allowShort``, size by
``sizeFraction``).  Keeping sizing and shorting out of strategies lets one strategy
run unchanged under every session config.
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
