"""Where the bot can reach people: stored conversation references and persisted flow state."""
