"""Market data: importer, gaps, synthetic generator, store, commands and routes."""
