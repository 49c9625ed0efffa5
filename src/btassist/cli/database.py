"""`btassist db`: the schema."""

from __future__ import annotations

import typer

from btassist.cli.common import (
    out,
    run_with_database,
)
from btassist.db.engine import Database
from btassist.db.migrate import current_revision, head_revision

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the newest revision."""

    async def work(database: Database) -> str | None:
        return await current_revision(database)

    revision = run_with_database(work)
    out.print(f"database at revision {revision} (newest: {head_revision()})")
