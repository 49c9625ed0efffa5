"""Where the bot can reach people and what it waits for from them: references, turn start, state."""
