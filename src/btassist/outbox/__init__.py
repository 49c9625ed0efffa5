"""Messages to send outside a turn, claimed and delivered exactly once via the database."""
