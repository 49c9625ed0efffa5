"""The per-tenant send budget every server process draws from, kept in the database."""
