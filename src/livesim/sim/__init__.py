"""The simulation core: candles, strategies, orders, broker, portfolio and stats.

Outside inputs (:mod:`~livesim.sim.inputs`) and installed strategy plugins
(:mod:`~livesim.sim.plugins`) enter here as plain values and classes.

Nothing in this package imports trio, asyncpg or quart, and its only I/O is reading
installed distributions' entry points once, when the profile registry loads; so
every rule can be tested synchronously and replayed deterministically.
"""
