"""`btassist broadcast` at the command line: a preview that asks before anything is queued,
then list, status (with the CSV of who was not reached), cancel and recall."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from btassist.cli import app
from btassist.db.engine import Database
from btassist.demo import demo_roster
from btassist.roster.importer import import_roster
from tests.support.databases import run_sync


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """The commands' subject does not depend on the database: SQLite only."""
    return sqlite_url


async def _roster(db_url: str) -> None:
    database = Database(db_url)
    try:
        for roster in demo_roster():
            assert (await import_roster(database, roster)).ok
    finally:
        await database.dispose()


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> dict[str, str]:
    run_sync(_roster(db_url))
    (tmp_path / "text.md").write_text("Ny omgång **Försäkringsmedicin** i januari.", "utf-8")
    return {"BTASSIST_DATABASE_URL": db_url, "MicrosoftAppId": ""}


def run(env: dict[str, str], tmp_path: Path, *args: str, answer: str = "") -> str:
    result = CliRunner().invoke(
        app, ["broadcast", *args], env=env, input=answer, catch_exceptions=False
    )
    assert result.exit_code in (0, 1), result.output
    return result.output


def test_send_previews_and_asks_then_queues(env: dict[str, str], tmp_path: Path) -> None:
    text = str(tmp_path / "text.md")
    declined = run(
        env,
        tmp_path,
        "send",
        "--region",
        "Halland",
        "--role",
        "läkare",
        "--text-file",
        text,
        answer="n\n",
    )
    assert "To 3 people: BT doctors in Region Halland" in declined
    assert "Ny omgång **Försäkringsmedicin**" in declined
    assert "Nothing was sent." in declined
    sent = run(
        env,
        tmp_path,
        "send",
        "--region",
        "halland",
        "--role",
        "doctor",
        "--text-file",
        text,
        "--at",
        "2099-01-15 08:30",
        "--ack",
        answer="y\n",
    )
    assert "queued announcement #2 for 3 people" in sent
    listed = run(env, tmp_path, "list")
    assert "queued" in listed
    assert "cli:" in listed
    status = run(env, tmp_path, "status", "2", "--failures", str(tmp_path / "missed.csv"))
    assert "recipients 3, delivered 0, pending 3" in status
    assert (tmp_path / "missed.csv").read_text("utf-8-sig").startswith("name,email,status,reason")
    assert "3 copies will not be sent" in run(env, tmp_path, "cancel", "2")
    assert "is cancelled: nothing to do" in run(env, tmp_path, "cancel", "2")
    assert "0 delivered copies being deleted" in run(env, tmp_path, "recall", "2")


def test_an_audience_of_nobody_queues_nothing(env: dict[str, str], tmp_path: Path) -> None:
    emails = tmp_path / "emails.csv"
    emails.write_text("email\nnobody@halland.example.org\n", "utf-8")
    result = CliRunner().invoke(
        app,
        [
            "broadcast",
            "send",
            "--region",
            "halland",
            "--emails",
            str(emails),
            "--text-file",
            str(tmp_path / "text.md"),
            "--yes",
        ],
        env=env,
    )
    assert result.exit_code == 1
    assert "nobody matches that audience" in result.output
