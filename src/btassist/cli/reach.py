"""`btassist reach`: who the bot cannot message, and installing the Teams app for them."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from btassist.cli.common import (
    err,
    fail,
    load_settings,
    out,
    print_rows,
    region_option,
    run_with_database,
)
from btassist.db.engine import Database
from btassist.reach.install import Candidate, InstallRun, install_candidates
from btassist.reach.report import Reach, Unreachable, reachability, unreachable_counts

reach_app = typer.Typer(
    help="Reachability: who the bot cannot message, and installing the app for them.",
    no_args_is_help=True,
)

REASONS = {
    Unreachable.never_installed: "never opened the app",
    Unreachable.uninstalled: "removed the app (or Teams refused the chat)",
    Unreachable.user_gone: "not in the directory any more",
}


def _reach_json(person: Reach) -> dict[str, object]:
    return {
        "email": person.email,
        "name": person.name,
        "region": person.region,
        "reachable": person.reachable,
        "reason": person.reason.value if person.reason else None,
        "install": person.install.value if person.install else None,
        "install_detail": person.install_detail,
    }


@reach_app.command("report")
def reach_report(
    region: Annotated[str | None, region_option("Only this region.")] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print a JSON list of {email, name, region, reachable, reason, …}."
        ),
    ] = False,
) -> None:
    """Every active roster person and whether the bot can message them; the reason when not
    (never_installed, uninstalled, user_gone) and how the last proactive installation went."""

    async def work(database: Database) -> list[Reach]:
        return await reachability(database, region=region)

    people = run_with_database(work)
    if as_json:
        print(json.dumps([_reach_json(person) for person in people], ensure_ascii=False, indent=2))
        return
    rows = [
        [
            person.name,
            person.email,
            person.region,
            "yes" if person.reachable else "no",
            REASONS[person.reason] if person.reason else "",
            f"{person.install.value} {person.install_detail or ''}".strip()
            if person.install
            else "",
        ]
        for person in people
    ]
    print_rows(
        ["Name", "E-mail", "Region", "Reachable", "Why not", "Last install"],
        rows,
        as_csv=False,
        title="Who the bot can reach",
    )
    counts = unreachable_counts(people)
    reachable = sum(person.reachable for person in people)
    why = ", ".join(f"{count} {REASONS[reason]}" for reason, count in sorted(counts.items()))
    err.print(
        f"{reachable} of {len(people)} can be reached" + (f"; {why}" if why else ""),
        markup=False,
        highlight=False,
    )


@reach_app.command("install")
def reach_install(
    region: Annotated[str | None, region_option("Only people of this region.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List who would get the app; call nothing.")
    ] = False,
) -> None:
    """Install the Teams app through Microsoft Graph for everyone who never had it, and open
    their chat, so reminders and broadcasts reach them (someone who removed the app is left
    alone). Needs BTASSIST_PROACTIVE_INSTALL=true, BTASSIST_TEAMS_APP_ID and the app
    registration's permission TeamsAppInstallation.ReadWriteForUser.All (docs/deploy.md, 11).
    Exit code 1 when Graph refused the app and the run stopped."""
    from btassist.reach.install import installation_problems

    settings = load_settings()
    if not dry_run and (problems := installation_problems(settings)):
        fail("proactive installation is not set up: " + "; ".join(problems))

    async def work(database: Database) -> tuple[list[Candidate], InstallRun | None]:
        candidates = await install_candidates(database, region=region)
        if dry_run or not candidates:
            return candidates, None
        return candidates, await _install(database, candidates)

    candidates, run = run_with_database(work)
    if run is None:
        print_rows(
            ["E-mail", "Entra object id"],
            [
                [c.email, "yes" if c.aad_object_id else "no (looked up by e-mail)"]
                for c in candidates
            ],
            as_csv=False,
            title="Would install the app for" if dry_run else "Nobody needs the app installed",
        )
        err.print(f"{len(candidates)} without the app", markup=False, highlight=False)
        return
    emails = {c.person_id: c.email for c in candidates}
    table = Table("E-mail", "Outcome", "Detail", "Chat opened", title="Proactive installation")
    for attempt in sorted(run.attempts, key=lambda a: emails[a.person_id]):
        table.add_row(
            emails[attempt.person_id],
            attempt.outcome.value,
            attempt.detail or "",
            "yes" if attempt.reachable else "no",
        )
    out.print(table)
    counts = ", ".join(f"{n} {outcome.value}" for outcome, n in sorted(run.counts().items()))
    err.print(
        f"{len(run.reachable)} of {len(candidates)} reachable now ({counts or 'nothing done'})"
        + (f"; {run.not_tried} not tried" if run.not_tried else ""),
        markup=False,
        highlight=False,
    )
    if run.refused:
        fail(run.refused, code=1)


async def _install(database: Database, candidates: list[Candidate]) -> InstallRun:
    from btassist.bot.adapter import BTAdapter
    from btassist.bot.opener import proactive_installer

    settings = load_settings()
    adapter = BTAdapter(settings)
    installer = proactive_installer(settings, database=database, adapter=adapter)
    assert installer is not None  # installation_problems() was empty
    try:
        return await installer.install(candidates)
    finally:
        await installer.close()
        await adapter.close()
