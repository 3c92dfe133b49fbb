"""Getting durable events to subscribers: in-process fan-out and cross-process wake-ups."""
