"""`btassist broadcast`: announcements from the command line — send (with a preview), list,
follow one's delivery live, cancel, recall."""

from __future__ import annotations

import asyncio
import csv
import getpass
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from btassist.broadcast import usecases
from btassist.broadcast.audience import Audience, AudienceRole
from btassist.cli.common import (
    err,
    fail,
    load_settings,
    out,
    parse_region,
    print_table,
    role_option,
    run_with_database,
)
from btassist.cli.reminders import _local_moment
from btassist.common.language import Language
from btassist.db.engine import Database
from btassist.db.types import utcnow
from btassist.dialogs.broadcast import describe
from btassist.roster.models import Role

broadcast_app = typer.Typer(
    help="Announcements: send (with a preview), list, follow, cancel, recall.",
    no_args_is_help=True,
)
POLL_SECONDS = 0.5
EMAIL_COLUMNS = ("email", "e-mail", "e-post", "epost", "mail")


def _author() -> usecases.Author:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return usecases.operator(f"cli:{user}")


def _emails(path: Path) -> tuple[str, ...]:
    """The addresses in a CSV file: its e-mail column, else its first column."""
    try:
        text = path.read_text("utf-8-sig")
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror or error}")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:2048], delimiters=",;\t"
        )
    except csv.Error:  # one column: nothing to tell the delimiter by
        dialect = csv.excel
    rows = [
        row for row in csv.reader(text.splitlines(), dialect) if any(cell.strip() for cell in row)
    ]
    if not rows:
        return ()
    header = [cell.strip().lower() for cell in rows[0]]
    column = next((header.index(name) for name in EMAIL_COLUMNS if name in header), None)
    body = rows[1:] if column is not None else rows
    found = [row[column or 0].strip() for row in body if len(row) > (column or 0)]
    return tuple(email for email in found if "@" in email)


def _audience_role(role: Role | None) -> AudienceRole:
    if role is None:
        return AudienceRole.both
    if role is Role.doctor:
        return AudienceRole.doctors
    if role is Role.supervisor:
        return AudienceRole.supervisors
    raise typer.BadParameter("--role takes doctor or supervisor", param_hint="--role")


@broadcast_app.command("send")
def broadcast_send(
    region: Annotated[
        list[str],
        typer.Option("--region", metavar="REGION", help="Region(s) to reach (repeatable)."),
    ],
    text_file: Annotated[
        Path, typer.Option("--text-file", exists=True, dir_okay=False, help="The text (Markdown).")
    ],
    role: Annotated[Role | None, role_option("doctor or supervisor (default: both).")] = None,
    cohort_from: Annotated[
        str | None, typer.Option("--cohort-from", metavar="YYYY-MM-DD", help="BT start from.")
    ] = None,
    cohort_to: Annotated[
        str | None, typer.Option("--cohort-to", metavar="YYYY-MM-DD", help="BT start until.")
    ] = None,
    course: Annotated[
        str | None, typer.Option("--course", metavar="CODE", help="A course's participants.")
    ] = None,
    emails: Annotated[
        Path | None,
        typer.Option("--emails", exists=True, dir_okay=False, help="Only these people (CSV)."),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", metavar="'YYYY-MM-DD HH:MM'", help="Send later, at this local time."),
    ] = None,
    ack: Annotated[bool, typer.Option("--ack", help='Add an "Uppfattat" button.')] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Send without showing the preview.")] = False,
) -> None:
    """Queue an announcement; without --yes it shows the preview (count, audience, text) and
    asks. A running `btassist serve` sends it within a second or two."""
    settings = load_settings()
    regions = tuple(dict.fromkeys(parse_region(value) for value in region))
    text = text_file.read_text("utf-8").strip()
    if not text:
        fail(f"{text_file} is empty")
    try:
        audience = Audience(
            regions=regions,
            role=_audience_role(role),
            cohort_from=date.fromisoformat(cohort_from) if cohort_from else None,
            cohort_to=date.fromisoformat(cohort_to) if cohort_to else None,
            course=course,
            emails=_emails(emails) if emails else (),
        )
    except ValueError as error:
        fail(f"invalid audience: {error}")
    send_at = _local_moment(at) if at else None
    author = _author()

    async def previewed(database: Database) -> usecases.Preview:
        draft = await usecases.compose(database, author=author, text=text, now=utcnow())
        shown = await usecases.preview(
            database,
            author=author,
            broadcast_id=draft.broadcast_id,
            audience=audience,
            ack=ack,
            send_at=send_at,
            now=utcnow(),
            zone=settings.zone,
        )
        if isinstance(shown, usecases.InThePast):
            fail(f"--at {at} has already passed")
        if not isinstance(shown, usecases.Preview):
            fail(f"cannot preview: {type(shown).__name__}")
        return shown

    shown = run_with_database(previewed)
    broadcast_id = shown.broadcast.id
    assert broadcast_id is not None
    if shown.unknown_emails:
        err.print(
            f"{len(shown.unknown_emails)} e-mail(s) not in the roster: "
            + ", ".join(shown.unknown_emails[:10]),
            markup=False,
        )
    if shown.count == 0:
        fail("nobody matches that audience; nothing was queued", code=1)
    if not yes:
        when = at or "now"
        out.print(f"[bold]Preview of announcement #{broadcast_id}[/bold]")
        out.print(f"To {shown.count} people: {escape(describe(audience, Language.en))}")
        out.print(f"Sent: {escape(when)}; acknowledge button: {'yes' if ack else 'no'}")
        out.print(escape(text), markup=False)
        if not typer.confirm(f"Send to {shown.count} people?", default=False):
            out.print("Nothing was sent.")
            raise typer.Exit(1)

    async def queued(database: Database) -> usecases.QueuedUp:
        done = await usecases.send(
            database, author=author, broadcast_id=broadcast_id, now=utcnow(), zone=settings.zone
        )
        if not isinstance(done, usecases.QueuedUp):
            fail(f"not sent: {type(done).__name__}")
        return done

    done = run_with_database(queued)
    out.print(f"queued announcement #{broadcast_id} for {done.count} people")


@broadcast_app.command("list")
def broadcast_list(
    limit: Annotated[int, typer.Option("--limit", help="How many, newest first.")] = 20,
) -> None:
    """Announcements with their delivery counts, newest first (the audit: who, when, how many)."""
    author = _author()

    async def work(database: Database) -> list[usecases.Report]:
        return await usecases.reports(database, author=author, limit=limit)

    found = run_with_database(work)
    zone = load_settings().zone
    table = Table(
        "id",
        "queued",
        "author",
        "status",
        "to",
        "delivered",
        "pending",
        "failed",
        "ack",
        "read",
        "text",
        title=f"{len(found)} announcement(s)",
    )
    for item in found:
        b, c = item.broadcast, item.counts
        when = (b.queued_at or b.created_at).astimezone(zone).strftime("%Y-%m-%d %H:%M")
        table.add_row(
            str(b.id),
            when,
            escape(b.author_label),
            b.status.value,
            str(c.total),
            str(c.delivered),
            str(c.pending),
            str(c.failed + c.unreachable),
            str(c.acknowledged),
            str(c.read),
            escape(b.text.splitlines()[0][:60] if b.text else ""),
        )
    print_table(table)


@broadcast_app.command("status")
def broadcast_status(
    broadcast_id: Annotated[int, typer.Argument(metavar="ID")],
    failures: Annotated[
        Path | None,
        typer.Option("--failures", dir_okay=False, help="Write who was not reached to a CSV."),
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow/--no-follow", help="A live progress bar until done.")
    ] = True,
) -> None:
    """Delivered / failed / pending, acknowledgements and read receipts; a live progress bar
    on a terminal while copies are pending."""
    author = _author()

    async def work(database: Database) -> usecases.Report:
        found = await usecases.report(database, author=author, broadcast_id=broadcast_id)
        if isinstance(found, usecases.NotFound):
            fail(f"no announcement #{broadcast_id}", code=1)
        if follow and out.is_terminal and found.counts.pending:
            found = await _follow(database, author, found)
        if failures is not None:
            missed = await usecases.failures(database, author=author, broadcast_id=broadcast_id)
            assert isinstance(missed, list)
            _write_failures(failures, missed)
        return found

    found = run_with_database(work)
    c = found.counts
    b = found.broadcast
    out.print(f"announcement #{broadcast_id} by {escape(b.author_label)}: {b.status.value}")
    out.print(
        f"recipients {c.total}, delivered {c.delivered}, pending {c.pending}, failed {c.failed}, "
        f"unreachable {c.unreachable}, cancelled {c.cancelled}, recalled {c.recalled}, "
        f"acknowledged {c.acknowledged}, read {c.read}"
    )


async def _follow(
    database: Database, author: usecases.Author, found: usecases.Report
) -> usecases.Report:
    broadcast_id = found.broadcast.id
    assert broadcast_id is not None
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("failed {task.fields[failed]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=out, transient=False) as progress:
        task = progress.add_task(f"#{broadcast_id}", total=found.counts.total, failed=0)
        while True:
            c = found.counts
            progress.update(task, completed=c.total - c.pending, failed=c.failed + c.unreachable)
            if not c.pending or found.broadcast.status.value not in {"queued"}:
                return found
            await asyncio.sleep(POLL_SECONDS)
            latest = await usecases.report(database, author=author, broadcast_id=broadcast_id)
            assert isinstance(latest, usecases.Report)
            found = latest


def _write_failures(path: Path, failures: list[usecases.Failure]) -> None:
    try:
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["name", "email", "status", "reason"])
            writer.writerows([f.name, f.email, f.status.value, f.reason] for f in failures)
    except OSError as error:
        fail(f"cannot write {path}: {error.strerror or error}")
    err.print(f"wrote {len(failures)} recipient(s) not reached to {path}", markup=False)


def _stop(broadcast_id: int, *, recall: bool) -> None:
    author = _author()

    async def work(database: Database) -> object:
        stop = usecases.recall if recall else usecases.cancel
        return await stop(database, author=author, broadcast_id=broadcast_id, now=utcnow())

    stopped = run_with_database(work)
    if isinstance(stopped, usecases.NotFound):
        fail(f"no announcement #{broadcast_id}", code=1)
    if isinstance(stopped, usecases.NotADraft):
        fail(f"announcement #{broadcast_id} is {stopped.status.value}: nothing to do", code=1)
    assert isinstance(stopped, usecases.Stopped)
    if recall:
        out.print(
            f"recalled #{broadcast_id}: {stopped.dropped} not sent, {stopped.deleting} "
            "delivered copies being deleted"
        )
    else:
        out.print(f"cancelled #{broadcast_id}: {stopped.dropped} copies will not be sent")


@broadcast_app.command("cancel")
def broadcast_cancel(broadcast_id: Annotated[int, typer.Argument(metavar="ID")]) -> None:
    """Stop sending: copies not yet out never go."""
    _stop(broadcast_id, recall=False)


@broadcast_app.command("recall")
def broadcast_recall(broadcast_id: Annotated[int, typer.Argument(metavar="ID")]) -> None:
    """Cancel, and delete the delivered copies from the chats (through the Bot Connector)."""
    _stop(broadcast_id, recall=True)
