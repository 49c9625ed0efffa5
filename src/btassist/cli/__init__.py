"""The `btassist` command line: one module per command group, assembled here."""

from __future__ import annotations

import typer

from btassist.cli.assessments import assessments_app
from btassist.cli.broadcast import broadcast_app
from btassist.cli.courses import courses_app
from btassist.cli.database import db_app
from btassist.cli.faq import faq_app
from btassist.cli.privacy import privacy_app
from btassist.cli.reach import reach_app
from btassist.cli.reminders import reminders_app
from btassist.cli.roster import roster_app
from btassist.cli.server import chat, serve, teams_package

app = typer.Typer(
    help="BT-assistenten: a Teams bot for Swedish bastjänstgöring (BT).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.command()(serve)
app.command()(chat)
app.command("teams-package")(teams_package)
app.add_typer(db_app, name="db")
app.add_typer(roster_app, name="roster")
app.add_typer(courses_app, name="courses")
app.add_typer(faq_app, name="faq")
app.add_typer(assessments_app, name="assessments")
app.add_typer(reminders_app, name="reminders")
app.add_typer(broadcast_app, name="broadcast")  # Broadcasts
# Reach and privacy (issues 16 and 13)
app.add_typer(reach_app, name="reach")
app.add_typer(privacy_app, name="privacy")
