"""`btassist assessments`: doctors' plans, marking items done, new dates, the region policies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.assessments.exports import plans_sheet
from btassist.assessments.models import PlanItem
from btassist.assessments.policy import PolicyError, RegionPolicies, load_policies
from btassist.assessments.service import (
    PlanChangeRefused,
    PlanLine,
    instrument_named,
    mark_done,
    move_item,
    plan_of,
)
from btassist.assessments.sync import SyncResult, sync_plans
from btassist.cli.common import (
    csv_option,
    err,
    load_settings,
    out,
    output_sheet,
    print_rows,
    region_option,
    run_reading,
    run_with_database,
    xlsx_option,
)
from btassist.common.language import Language
from btassist.common.tabular import cell_text
from btassist.db.engine import Database
from btassist.db.types import utcnow
from btassist.roster.models import Person

assessments_app = typer.Typer(
    help="Assessments: each doctor's plan, marking items done, new dates, the region policies.",
    no_args_is_help=True,
)
ItemArgument = Annotated[
    str, typer.Argument(metavar="ITEM", help="The item's number (#) in `assessments list`.")
]
DateOption = Annotated[datetime, typer.Option("--date", formats=["%Y-%m-%d"], help="YYYY-MM-DD.")]
# A change to one item: (session, doctor, item, who acts) → the changed item.
Change = Callable[[AsyncSession, Person, PlanItem, Person | None], Awaitable[PlanItem]]
ByOption = Annotated[
    str | None, typer.Option("--by", metavar="EMAIL", help="Who did it (must be allowed to).")
]


def policies_or_exit(directory: Path | None) -> RegionPolicies:
    """The policies in `directory` (default: shipped), or every problem and exit code 1."""
    try:
        return load_policies(directory)
    except PolicyError as error:
        err.print(f"[red]{len(error.problems)} problem(s) in the policy files:[/red]")
        for problem in error.problems:
            err.print(f"  {problem}", markup=False, highlight=False)
        raise typer.Exit(1) from error


async def _person(session: AsyncSession, email: str) -> Person | None:
    query = select(Person).where(col(Person.email) == email.strip().lower())
    return (await session.exec(query)).first()


@assessments_app.command("list")
def assessments_list(
    email: Annotated[str, typer.Argument(help="The doctor's e-mail address.")],
    show_all: Annotated[
        bool, typer.Option("--all", help="Also items the plan no longer needs (cancelled).")
    ] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
) -> None:
    """A doctor's plan: every item with its number, due date, placement and state."""
    settings = load_settings()
    policies = policies_or_exit(settings.policy_dir)
    today = datetime.now(settings.zone).date()

    async def work(database: Database) -> tuple[Person | None, list[PlanLine]]:
        async with database.session(write_lock=False) as session:
            doctor = await _person(session, email)
            if doctor is None or doctor.id is None:
                return None, []
            lines = await plan_of(
                session, doctor_id=doctor.id, today=today, include_cancelled=show_all
            )
            return doctor, lines

    doctor, lines = run_with_database(work)
    if doctor is None:
        err.print(f"[red]error:[/red] nobody with the e-mail {escape(email)} in the roster")
        raise typer.Exit(1)
    policy = policies.get(doctor.region_code)
    columns = ("#", "item", "due", "state", "placement", "done")
    rows = []
    for line in lines:
        item = line.item
        name = policy.name(item.kind, Language.sv) if policy else item.kind.value
        done = ", ".join(
            part
            for part in (
                item.done_on.isoformat() if item.done_on else "",
                item.instrument or "",
                item.assessor or "",
            )
            if part
        )
        rows.append((str(item.id), name, item.due.isoformat(), line.state, line.unit or "", done))
    print_rows(columns, rows, as_csv=as_csv, title=doctor.email)
    if not lines:
        out.print("no plan: the roster has no BT dates for this doctor")


@dataclass(frozen=True)
class _Change:
    """The outcome of a change: the item, or why it was refused."""

    item: PlanItem | None = None
    refusal: str = ""


def _item_number(text: str) -> int:
    try:
        return int(text.strip().lstrip("#"))
    except ValueError as error:
        err.print(f"[red]error:[/red] ITEM must be a number from `assessments list`, not {text!r}")
        raise typer.Exit(2) from error


def _change(
    email: str,
    item_text: str,
    by: str | None,
    apply: Change,
) -> PlanItem:
    """Find the doctor's item (and who acts), apply the change in one transaction, report."""
    item_id = _item_number(item_text)

    async def work(database: Database) -> _Change:
        async with database.session() as session:
            doctor = await _person(session, email)
            item = await session.get(PlanItem, item_id)
            if doctor is None or item is None or item.doctor_id != doctor.id:
                return _Change(refusal=f"{escape(email)} has no item #{item_id}")
            actor = await _person(session, by) if by else None
            if by and actor is None:
                return _Change(refusal=f"nobody with the e-mail {escape(by)} in the roster")
            try:
                changed = await apply(session, doctor, item, actor)
            except PlanChangeRefused as refused:
                return _Change(refusal=f"{refused.reason.value}: {escape(refused.detail)}")
            return _Change(item=changed)

    outcome = run_with_database(work)
    if outcome.item is None:
        err.print(f"[red]refused:[/red] {outcome.refusal}")
        raise typer.Exit(1)
    return outcome.item


@assessments_app.command("done")
def assessments_done(
    email: Annotated[str, typer.Argument(help="The doctor's e-mail address.")],
    item: ItemArgument,
    on: DateOption,
    instrument: Annotated[
        str | None, typer.Option(help="The instrument used, e.g. Mini-CEX, DOPS, CBD.")
    ] = None,
    assessor: Annotated[str | None, typer.Option(help="Who assessed (name or role).")] = None,
    by: ByOption = None,
) -> None:
    """Mark an item of a doctor's plan as done; nudges about it stop at once."""
    settings = load_settings()
    policies = policies_or_exit(settings.policy_dir)
    today = datetime.now(settings.zone).date()

    async def apply(
        session: AsyncSession, doctor: Person, found: PlanItem, actor: Person | None
    ) -> PlanItem:
        policy = policies.get(doctor.region_code)
        named = instrument_named(policy, instrument) if instrument and policy else instrument
        assert found.id is not None
        return await mark_done(
            session,
            item_id=found.id,
            on=on.date(),
            today=today,
            instrument=named,
            assessor=assessor,
            by_person_id=actor.id if actor else None,
            now=utcnow(),
        )

    done = _change(email, item, by, apply)
    used = f" ({done.instrument})" if done.instrument else ""
    out.print(f"#{done.id} done on {done.done_on}{used}")


@assessments_app.command("move")
def assessments_move(
    email: Annotated[str, typer.Argument(help="The doctor's e-mail address.")],
    item: ItemArgument,
    on: DateOption,
    by: ByOption = None,
) -> None:
    """Give an open item a new date; it stays when the plan is regenerated."""

    async def apply(
        session: AsyncSession, _doctor: Person, found: PlanItem, actor: Person | None
    ) -> PlanItem:
        assert found.id is not None
        return await move_item(
            session,
            item_id=found.id,
            due=on.date(),
            by_person_id=actor.id if actor else None,
            now=utcnow(),
        )

    moved = _change(email, item, by, apply)
    out.print(f"#{moved.id} is now due on {moved.due}")


@assessments_app.command("check")
def assessments_check(
    directory: Annotated[
        Path | None,
        typer.Argument(help="A policy directory (default: BTASSIST_POLICY_DIR or the shipped)."),
    ] = None,
) -> None:
    """Check the region policy files; every problem is listed as `file:line: message`."""
    settings = load_settings()
    policies = policies_or_exit(directory or settings.policy_dir)
    regions = ", ".join(sorted(policies.by_region))
    out.print(f"{len(policies.by_region)} region policies are valid: {regions}")


@assessments_app.command("sync")
def assessments_sync() -> None:
    """Regenerate every doctor's plan from the roster and the policies (done items stay)."""
    settings = load_settings()
    policies = policies_or_exit(settings.policy_dir)

    async def work(database: Database) -> SyncResult:
        return await sync_plans(database, policies=policies)

    result = run_with_database(work)
    out.print(
        f"{result.doctors} plan(s): {result.created} item(s) added, {result.moved} moved, "
        f"{result.cancelled} cancelled, {result.reopened} reopened"
    )


@assessments_app.command("export")
def assessments_export(
    region: Annotated[str | None, region_option("Only this region's doctors.")] = None,
    as_csv: Annotated[bool, csv_option("Print CSV instead of a table.")] = False,
    xlsx: Annotated[Path | None, xlsx_option("Write the plans as an Excel workbook.")] = None,
) -> None:
    """Every doctor's plan, one row per item: due date, state, placement, who was nudged."""
    settings = load_settings()
    policies = policies_or_exit(settings.policy_dir)
    today = datetime.now(settings.zone).date()
    sheet = run_reading(
        lambda session: plans_sheet(session, today=today, region=region, policies=policies)
    )
    if as_csv or xlsx:
        output_sheet(sheet, as_csv=as_csv, xlsx=xlsx, what="plan items")
        return
    rows = [tuple(cell_text(cell) for cell in row) for row in sheet.rows]
    print_rows(sheet.header, rows, as_csv=False, title=f"{len(rows)} plan items")
