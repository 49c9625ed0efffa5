"""`btassist reminders`: what a sweep would send, a sweep now, and pausing a person's reminders."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.markup import escape
from sqlmodel import col, select

from btassist.cli.assessments import policies_or_exit
from btassist.cli.common import err, load_settings, out, print_rows, run_with_database
from btassist.db.engine import Database
from btassist.db.types import utcnow
from btassist.outbox.notices import NoticeKind
from btassist.reminders.kinds import REMINDER_KINDS
from btassist.reminders.pauses import pause, resume
from btassist.reminders.sweep import PreviewLine, SweepResult, preview, sweep
from btassist.roster.models import Person

reminders_app = typer.Typer(
    help="Reminders: preview a sweep, sweep now, pause and resume.", no_args_is_help=True
)
LOCAL_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M")


def _local_moment(text: str) -> datetime:
    """A local `YYYY-MM-DD HH:MM` (BTASSIST_TIMEZONE) as UTC, or exit code 2."""
    zone = load_settings().zone
    for pattern in LOCAL_FORMATS:
        try:
            naive = datetime.strptime(text.strip(), pattern)
        except ValueError:
            continue
        moment = naive.replace(tzinfo=zone).astimezone(UTC)
        if moment.astimezone(zone).replace(tzinfo=None) != naive:
            err.print(f"[red]error:[/red] {text} does not exist in {zone} (the clocks go forward)")
            raise typer.Exit(2)
        return moment
    err.print(f"[red]error:[/red] --at {text!r} is not a local time (use YYYY-MM-DD HH:MM)")
    raise typer.Exit(2)


@reminders_app.command("preview")
def reminders_preview(
    at: Annotated[
        str, typer.Option("--at", metavar="'YYYY-MM-DD HH:MM'", help="Local time of the sweep.")
    ],
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print a JSON list of {recipient, kind, subject, due, params}."
        ),
    ] = False,
) -> None:
    """What a sweep at that local time would send and has not sent; sends and records nothing.

    A sweep sends only on working days between 08:30 and 17:00: at any other time the list is
    empty. `due` is the date a reminder is about (an item's due date, a session's day, the
    Monday of a weekly summary, the day of a supervisor's list).
    """
    settings = load_settings()
    policies = policies_or_exit(settings.policy_dir)
    now = _local_moment(at)

    async def work(database: Database) -> list[PreviewLine]:
        return await preview(database, now=now, zone=settings.zone, policies=policies)

    lines = run_with_database(work)
    if as_json:
        payload = [
            {
                "recipient": line.recipient,
                "kind": line.kind.value,
                "subject": line.subject,
                "due": line.due.isoformat(),
                "params": line.params,
            }
            for line in lines
        ]
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    rows = [(line.recipient, line.kind.value, line.subject, line.due.isoformat()) for line in lines]
    columns = ("recipient", "kind", "subject", "due")
    print_rows(columns, rows, as_csv=False, title=f"{len(lines)} reminder(s) at {at}")


@reminders_app.command("sweep")
def reminders_sweep() -> None:
    """Sweep now: queue what is due today and not sent yet (as the 08:30 timer does)."""
    settings = load_settings()
    policies = policies_or_exit(settings.policy_dir)

    async def work(database: Database) -> SweepResult:
        return await sweep(database, now=utcnow(), zone=settings.zone, policies=policies)

    result = run_with_database(work)
    if result.day is None:
        out.print("outside sending hours (working days 08:30–17:00): nothing to do")
        return
    counts = ", ".join(f"{kind.value} {count}" for kind, count in sorted(result.offered.items()))
    out.print(f"sweep for {result.day}: {result.total} reminder(s) offered ({counts or 'none'})")


def _check_kind(value: str | None) -> str | None:
    """A reminder kind's name, or a usage error listing them."""
    if value is not None and value not in {kind.value for kind in REMINDER_KINDS}:
        names = ", ".join(kind.value for kind in REMINDER_KINDS)
        raise typer.BadParameter(f"unknown reminder kind {value!r}; use one of {names}")
    return value


def _reminder_kind(value: str | None) -> NoticeKind | None:
    return None if value is None else NoticeKind(value)


def _pausing(email: str, kind: NoticeKind | None, *, stop: bool) -> None:
    async def work(database: Database) -> bool:
        async with database.session() as session:
            query = select(Person.id).where(col(Person.email) == email.strip().lower())
            person_id = (await session.exec(query)).first()
            if person_id is None:
                return False
            change = pause if stop else resume
            await change(session, person_id=person_id, kind=kind, now=utcnow())
            return True

    if not run_with_database(work):
        err.print(f"[red]error:[/red] nobody with the e-mail {escape(email)} in the roster")
        raise typer.Exit(1)
    what = kind.value if kind else "all reminders"
    out.print(f"{'paused' if stop else 'resumed'} {what} for {escape(email)}")


KindArgument = Annotated[
    str | None,
    typer.Argument(
        help="One kind (default: every kind): " + ", ".join(kind.value for kind in REMINDER_KINDS),
        callback=_check_kind,
    ),
]


@reminders_app.command("pause")
def reminders_pause(
    email: Annotated[str, typer.Argument(help="The person's e-mail address.")],
    kind: KindArgument = None,
) -> None:
    """Stop one kind of reminder (or all) for a person until resumed."""
    _pausing(email, _reminder_kind(kind), stop=True)


@reminders_app.command("resume")
def reminders_resume(
    email: Annotated[str, typer.Argument(help="The person's e-mail address.")],
    kind: KindArgument = None,
) -> None:
    """Start one kind of reminder (or all) again for a person."""
    _pausing(email, _reminder_kind(kind), stop=False)
