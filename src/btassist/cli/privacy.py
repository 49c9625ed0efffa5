"""`btassist privacy`: everything stored about a person, exported or erased (for coordinators)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer

from btassist.cli.common import err, fail, run_with_database
from btassist.db.engine import Database
from btassist.db.types import utcnow

privacy_app = typer.Typer(
    help="A person's data: export everything stored about them, or erase it.",
    no_args_is_help=True,
)


async def _person(database: Database, email: str) -> int:
    from btassist.privacy.export import person_with_email

    person_id = await person_with_email(database, email)
    if person_id is None:
        fail(f"nobody with the e-mail address {email} in the database", code=1)
    return person_id


@privacy_app.command("export")
def privacy_export(
    email: Annotated[str, typer.Argument(help="The person's e-mail address.")],
) -> None:
    """Everything stored about the person, as JSON on standard output: `person`, `tables` (rows
    about them) and `named_in` (their part of rows that are someone else's)."""
    from btassist.privacy.export import export_person

    async def work(database: Database) -> dict[str, Any] | None:
        return await export_person(database, person_id=await _person(database, email), now=utcnow())

    print(json.dumps(run_with_database(work), ensure_ascii=False, indent=2))


@privacy_app.command("erase")
def privacy_erase(
    email: Annotated[str, typer.Argument(help="The person's e-mail address.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase everything about the person except course attendance (completed courses and
    attended sessions), which the region must keep: then only their name, e-mail and region
    stay, marked inactive. Seats in sessions to come go to the next in line. Cannot be undone;
    a roster import that lists them adds them again."""
    from btassist.privacy.erase import Erased, erase_person, kept_on_erasure

    async def kept(database: Database) -> dict[str, int]:
        return await kept_on_erasure(database, person_id=await _person(database, email))

    keeping = run_with_database(kept)
    shown = ", ".join(f"{count} {table}" for table, count in keeping.items()) or "nothing"
    if not yes:
        typer.confirm(f"Erase {email}? Kept: {shown}", abort=True, err=True)

    async def work(database: Database) -> Erased | None:
        now: datetime = utcnow()
        return await erase_person(database, person_id=await _person(database, email), now=now)

    erased = run_with_database(work)
    if erased is None:
        fail(f"nobody with the e-mail address {email} in the database", code=1)
    removed = ", ".join(f"{n} {table}" for table, n in sorted(erased.removed.items())) or "nothing"
    err.print(f"erased: {removed}", markup=False, highlight=False)
    if erased.withdrawn:
        err.print(f"gave up {erased.withdrawn} seats or waitlist places", markup=False)
    err.print(
        "kept: name, e-mail and region (inactive), "
        + ", ".join(f"{n} {table}" for table, n in sorted(erased.kept.items()))
        if erased.person_kept
        else "kept: nothing",
        markup=False,
        highlight=False,
    )
