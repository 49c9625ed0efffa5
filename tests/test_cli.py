"""The command line: help everywhere, and `serve --demo` bringing up a working service."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from btassist.cli import app
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


def test_the_issue_commands_exist() -> None:
    assert {("serve",), ("db", "upgrade"), ("roster", "import"), ("roster", "list")} <= set(
        COMMANDS
    )


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


def test_serve_demo_answers_healthz_with_the_demo_roster(tmp_path: Path) -> None:
    port = free_port()
    env = {"BTASSIST_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}
    with (
        running_service(["serve", "--demo", "--port", str(port)], cwd=tmp_path, env=env, port=port),
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response,
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
