"""Market data: CSV import, the candle store, gaps and a seeded synthetic market."""
