"""The database: async engine and sessions, column types, and alembic schema migrations."""
