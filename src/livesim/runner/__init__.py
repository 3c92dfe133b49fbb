"""Running sessions: the supervisor, one task per session, and pacing."""
