"""The simulation core: candles, strategies, orders, broker, portfolio and stats.

Outside inputs (:mod:`~livesim.sim.inputs`) and installed strategy plugins
(:mod:`~livesim.sim.plugins`) enter here as plain values and classes.

Nothing in this package does I/O or imports trio, asyncpg or quart, so every rule
can be tested synchronously and replayed deterministically.
"""
