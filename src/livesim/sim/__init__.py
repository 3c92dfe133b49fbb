"""The simulation core: candles, strategies, broker, portfolio and stats.

Nothing in this package does I/O or imports trio, asyncpg or quart, so every rule
can be tested synchronously and replayed deterministically.
"""
