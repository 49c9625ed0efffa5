"""`btassist roster`: people, roles, BT programmes and placements."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from btassist.assessments.roster_checks import AfterImport, plans_after_import
from btassist.cli.assessments import policies_or_exit
from btassist.cli.common import (
    PROGRESS_THRESHOLD,
    csv_option,
    err,
    fail,
    load_settings,
    out,
    output_sheet,
    print_table,
    region_option,
    role_option,
    run_reading,
    run_with_database,
    xlsx_option,
)
from btassist.common.tabular import cell_text
from btassist.db.engine import Database
from btassist.roster.exports import people_sheet, placements_sheet
from btassist.roster.files import RosterFile, RosterFileError, read_roster_file
from btassist.roster.importer import ImportResult, import_roster
from btassist.roster.models import Role
from btassist.roster.queries import list_people

roster_app = typer.Typer(
    help="The cohort: people, roles, BT programmes, placements.", no_args_is_help=True
)


@roster_app.command("import")
def roster_import(
    file: Annotated[
        Path, typer.Argument(help="People or placements, .csv or .xlsx (the header decides).")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would change; write nothing.")
    ] = False,
) -> None:
    """Import people or placements from CSV or Excel; any bad row means nothing is imported.

    Afterwards the plans of the doctors in the file are regenerated, and what breaks a region's
    rules (placements, supervisors, BT dates) is listed as warnings: they never block an import.
    """
    policies = policies_or_exit(load_settings().policy_dir)
    try:
        roster = read_roster_file(file)
    except RosterFileError as error:
        fail(str(error))

    async def work(database: Database) -> tuple[ImportResult, AfterImport | None]:
        with Progress(
            TextColumn("checking rows"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=len(roster.rows) < PROGRESS_THRESHOLD or not err.is_terminal,
        ) as progress:
            task = progress.add_task("rows", total=len(roster.rows))
            result = await import_roster(
                database,
                roster,
                dry_run=dry_run,
                progress=lambda n: progress.advance(task, n),
            )
        if not result.ok or dry_run:
            return result, None
        return result, await plans_after_import(database, emails=roster.emails(), policies=policies)

    result, after = run_with_database(work)
    _report_import(roster, result)
    if not result.ok:
        raise typer.Exit(1)
    if after is not None:
        _report_plans(after)


def _report_plans(after: AfterImport) -> None:
    plans = after.plans
    if plans.changed:
        out.print(
            f"plans: {plans.created} item(s) added, {plans.moved} moved, "
            f"{plans.cancelled} cancelled, {plans.reopened} reopened"
        )
    if after.warnings:
        err.print(f"[yellow]{len(after.warnings)} warning(s) (imported all the same):[/yellow]")
    for warning in after.warnings:
        err.print(f"  {warning.doctor_email}: {warning.message}", markup=False, highlight=False)


def _report_import(roster: RosterFile, result: ImportResult) -> None:
    if not result.ok:
        err.print(
            f"{roster.source.label}: {len(result.problems)} problem(s); nothing was imported.",
            style="red",
            markup=False,
        )
        for problem in result.problems:
            where = roster.source.at(problem.line)
            err.print(f"  {where}: {problem.message}", markup=False, highlight=False)
        return
    verb = "would be" if result.dry_run else "were"
    out.print(
        f"{result.kind}: {len(result.created)} {verb} created, {len(result.updated)} {verb} "
        f"updated, {result.unchanged} unchanged"
        + (" (dry run: nothing written)" if result.dry_run else "")
    )
    for label, items in (("create", result.created), ("update", result.updated)):
        for item in items[:50] if not result.dry_run else items:
            out.print(f"  {label}: {item}", markup=False, highlight=False)
    shown = (
        0 if result.dry_run else max(len(result.created) - 50, 0) + max(len(result.updated) - 50, 0)
    )
    if shown:
        out.print(f"  … and {shown} more")


@roster_app.command("list")
def roster_list(
    region: Annotated[str | None, region_option("Only this region, e.g. halland.")] = None,
    role: Annotated[Role | None, role_option("Only people holding this role.")] = None,
    as_csv: Annotated[
        bool, csv_option("Print the people file `roster import` reads instead of a table.")
    ] = False,
    xlsx: Annotated[
        Path | None, xlsx_option("Write the people file `roster import` reads as Excel.")
    ] = None,
) -> None:
    """List the roster, or export it to edit and import again."""
    if as_csv or xlsx:
        sheet = run_reading(lambda session: people_sheet(session, region=region, role=role))
        output_sheet(sheet, as_csv=as_csv, xlsx=xlsx, what="people")
        return

    people = run_reading(lambda session: list_people(session, region=region, role=role))
    columns = ("email", "name", "roles", "region", "language", "bt", "active")
    table = Table(*columns, title=f"{len(people)} people")
    for s in people:
        table.add_row(
            s.person.email,
            s.person.name,
            "|".join(held.value for held in Role if held in s.roles),
            s.person.region_code,
            s.person.language or "",
            f"{s.programme.bt_type} {s.programme.start}–{s.programme.planned_end}"
            if s.programme
            else "",
            "yes" if s.person.active else "no",
        )
    print_table(table)


@roster_app.command("placements")
def roster_placements(
    region: Annotated[str | None, region_option("Only this region's doctors.")] = None,
    as_csv: Annotated[
        bool, csv_option("Print the placements file `roster import` reads instead of a table.")
    ] = False,
    xlsx: Annotated[
        Path | None, xlsx_option("Write the placements file `roster import` reads as Excel.")
    ] = None,
) -> None:
    """List the doctors' placements, or export them to edit and import again."""
    sheet = run_reading(lambda session: placements_sheet(session, region=region))
    if as_csv or xlsx:
        output_sheet(sheet, as_csv=as_csv, xlsx=xlsx, what="placements")
        return
    table = Table(*sheet.header, title=f"{len(sheet.rows)} placements")
    for row in sheet.rows:
        table.add_row(*(cell_text(cell) for cell in row))
    print_table(table)
