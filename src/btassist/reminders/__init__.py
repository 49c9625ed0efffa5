"""Reminders and supervisor nudges: the daily sweep into the outbox, its kinds, pauses and timer."""
