"""The command line: help everywhere, and `serve --demo` bringing up a working service."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from btassist.cli import app
from btassist.cli.common import is_loopback
from tests.support.processes import free_port, running_service

REPO = Path(__file__).resolve().parents[1]


def _command_paths(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group (typer may vendor its own click)
            paths += _command_paths(command, (*prefix, name))
        else:
            paths.append((*prefix, name))
    return paths


COMMANDS = _command_paths(typer.main.get_command(app))


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "btassist")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def _documented_commands() -> set[tuple[str, ...]]:
    """The commands the README's command table names (`btassist roster import …`, and the
    second of a pair like "`btassist broadcast cancel ID` / `recall ID`")."""
    found: set[tuple[str, ...]] = set()
    for line in (REPO / "README.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| `btassist ([a-z-]+)(?: ([a-z-]+))?[^`]*`(?: / `([a-z-]+))?", line)
        if match is None:
            continue
        group, command, twin = match.groups()
        found.add((group, command) if command else (group,))
        if twin:
            found.add((group, twin))
    return found


def test_every_command_is_documented_and_every_documented_command_exists() -> None:
    commands = {path for path in COMMANDS if path}
    groups = {path[:1] for path in commands if len(path) > 1}
    assert _documented_commands() == commands - groups


def test_console_script_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "btassist", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert "roster" in done.stdout


def test_bad_configuration_is_reported_not_raised(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "btassist", "db", "upgrade"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "BTASSIST_DATABASE_URL": "mysql://x@y/z"},
    )
    assert done.returncode == 2
    assert "configuration error" in done.stderr
    assert "database_url" in done.stderr


def test_serve_demo_is_ready_with_the_demo_roster(tmp_path: Path) -> None:
    port = free_port()
    env = {"BTASSIST_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}
    with (
        running_service(["serve", "--demo", "--port", str(port)], cwd=tmp_path, env=env, port=port),
        urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response,
    ):
        health = json.load(response)
        assert response.status == 200
    assert health["database"] == "ok"
    assert health["backend"] == "sqlite"
    listed = CliRunner().invoke(app, ["roster", "list", "--csv"], env=env)
    assert listed.exit_code == 0
    assert len(listed.output.strip().splitlines()) == 1 + 16


def test_stdlib_calendar_is_not_shadowed_from_the_repo_root() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import aiohttp, apscheduler.triggers.cron, calendar; print(calendar.__file__)",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "btassist" not in done.stdout


# --- serve in local mode ------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_local_mode_refuses_to_listen_beyond_loopback(host: str, tmp_path: Path) -> None:
    # With the database unreachable a serve that skipped the check exits too, instead of
    # listening for ever, and says something else.
    env = {"BTASSIST_DATABASE_URL": f"sqlite:///{tmp_path / 'no' / 'x.db'}", "MicrosoftAppId": ""}
    result = CliRunner().invoke(app, ["serve", "--host", host], env=env)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1, result.output
    assert f"listens only on loopback, not {host}" in result.output
    assert "--allow-unauthenticated" in result.output


def test_allow_unauthenticated_lets_local_mode_past_the_loopback_check(tmp_path: Path) -> None:
    # The database is unreachable, so getting as far as opening it proves the flag was heard.
    env = {"BTASSIST_DATABASE_URL": f"sqlite:///{tmp_path / 'no' / 'x.db'}", "MicrosoftAppId": ""}
    result = CliRunner().invoke(
        app, ["serve", "--host", "0.0.0.0", "--allow-unauthenticated"], env=env
    )
    assert result.exit_code == 2
    assert "loopback" not in result.output
    assert "cannot open the database" in result.output


def test_loopback_hosts() -> None:
    assert [is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "localhost")] == [True] * 4
    assert [is_loopback(h) for h in ("0.0.0.0", "::", "192.0.2.10", "example.org", "")] == [
        False
    ] * 5


# --- a database that cannot be reached ----------------------------------------------------------

DATABASE_COMMANDS = [
    ["db", "upgrade"],
    ["roster", "list"],
    ["roster", "list", "--csv"],
    ["roster", "placements"],
    ["roster", "import", "examples/roster/people.csv"],
    ["courses", "list"],
    ["courses", "participants", "1"],
    ["courses", "import", "examples/courses/sessions.csv"],
    ["courses", "attendance", "1", "a@x.se"],
    ["faq", "report"],
    ["serve"],
    ["chat", "--as", "a@x.se"],
]


@pytest.mark.parametrize("command", DATABASE_COMMANDS, ids=" ".join)
def test_an_unreachable_database_is_one_line_and_exit_code_2(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    url = f"postgresql://btassist:s3cret-pw@127.0.0.1:{free_port()}/btassist"
    result = CliRunner().invoke(app, command, env={"BTASSIST_DATABASE_URL": url})
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1, result.output
    assert "cannot open the database postgresql://btassist:***@127.0.0.1:" in result.output
    assert "Connect call failed" in result.output
    assert "s3cret-pw" not in result.output


def test_a_sqlite_file_that_cannot_be_opened_says_why(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing-directory' / 'btassist.db'}"
    result = CliRunner().invoke(app, ["roster", "list"], env={"BTASSIST_DATABASE_URL": url})
    assert result.exit_code == 2
    assert result.output == f"error: cannot open the database {url}: unable to open database file\n"


# --- tables, options ----------------------------------------------------------------------------


@pytest.fixture
def demo_roster_url(tmp_path: Path, demo_dir: Path) -> str:
    url = f"sqlite:///{tmp_path / 'roster.db'}"
    for name in ("people.csv", "placements.csv"):
        imported = CliRunner().invoke(
            app, ["roster", "import", str(demo_dir / name)], env={"BTASSIST_DATABASE_URL": url}
        )
        assert imported.exit_code == 0, imported.output
    return url


def test_piped_tables_show_every_value_in_full(demo_roster_url: str) -> None:
    env = {"BTASSIST_DATABASE_URL": demo_roster_url}
    people = CliRunner().invoke(app, ["roster", "list"], env=env)
    placements = CliRunner().invoke(app, ["roster", "placements", "--region", "halland"], env=env)
    assert people.exit_code == 0
    assert "…" not in people.output + placements.output
    assert "per.ekstrom@halland.example.org" in people.output
    assert "daniel.kowalski@gavleborg.example.org" in people.output
    assert "Akutkliniken Hallands sjukhus Varberg" in placements.output
    assert max(len(line) for line in people.output.splitlines()) > 80


REGION_OPTIONS = [
    ["roster", "list"],
    ["roster", "placements"],
    ["courses", "list"],
    ["courses", "participants", "halland-stas"],
    ["faq", "ask", "hur anmäler jag mig?"],
    ["faq", "report"],
]


@pytest.mark.parametrize("command", REGION_OPTIONS, ids=" ".join)
def test_an_unknown_region_is_an_error_listing_the_valid_ones(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--region", "atlantis"])
    text = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 2
    assert "unknown region 'atlantis'; use one of vgr (västra götaland" in text
    assert "gavleborg (gävleborg)" in text
    assert "halland" in text


def test_an_unknown_role_is_an_error_listing_swedish_words_too() -> None:
    result = CliRunner().invoke(app, ["roster", "list", "--role", "trollkarl"])
    text = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 2
    assert "unknown role 'trollkarl'; use one of doctor (läkare, bt-läkare)" in text
    assert "supervisor (handledare)" in text


def test_swedish_region_names_and_roles_are_understood(demo_roster_url: str) -> None:
    listed = CliRunner().invoke(
        app,
        ["roster", "list", "--csv", "--region", "Region Gävleborg", "--role", "Läkare"],
        env={"BTASSIST_DATABASE_URL": demo_roster_url},
    )
    assert listed.exit_code == 0, listed.output
    assert [line.split(",")[0] for line in listed.output.splitlines()[1:]] == [
        "daniel.kowalski@gavleborg.example.org",
        "fatima.rahimi@gavleborg.example.org",
    ]
