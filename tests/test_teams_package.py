"""The Teams app package: a valid manifest for this registration, with its icons."""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from btassist.cli import app
from btassist.teamsapp.package import PackageError, build_package

APP_ID = "11111111-2222-4333-8444-555555555555"


def test_the_package_names_this_bot_and_host() -> None:
    package = zipfile.ZipFile(
        io.BytesIO(build_package(app_id=APP_ID, public_url="https://bt.example.org/bot/"))
    )
    assert sorted(package.namelist()) == ["color.png", "en-us.json", "manifest.json", "outline.png"]
    manifest = json.loads(package.read("manifest.json"))
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == APP_ID
    assert manifest["bots"][0]["scopes"] == ["personal"]
    assert manifest["validDomains"] == ["bt.example.org"]
    assert manifest["developer"]["websiteUrl"] == "https://bt.example.org/bot"
    raw = package.read("manifest.json").decode()
    assert not re.search(r"\{(app_id|public_url|host|version|developer)\}", raw)
    english = json.loads(package.read("en-us.json"))
    assert english["name.short"] == "BT assistant"
    for name, size in (("color.png", 192), ("outline.png", 32)):
        png = package.read(name)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", png[16:24]) == (size, size)


@pytest.mark.parametrize(
    ("app_id", "url", "problem"),
    [("", "https://bt.example.org", "GUID"), (APP_ID, "http://bt.example.org", "https")],
)
def test_bad_settings_are_refused(app_id: str, url: str, problem: str) -> None:
    with pytest.raises(PackageError, match=problem):
        build_package(app_id=app_id, public_url=url)


def test_cli_writes_the_zip(tmp_path: Path) -> None:
    target = tmp_path / "pkg" / "bt.zip"
    env = {"MicrosoftAppId": APP_ID, "BTASSIST_PUBLIC_URL": "https://bt.example.org"}
    done = CliRunner().invoke(app, ["teams-package", "--out", str(target)], env=env)
    assert done.exit_code == 0, done.output
    assert zipfile.is_zipfile(target)
    refused = CliRunner().invoke(app, ["teams-package"], env={"MicrosoftAppId": ""})
    assert refused.exit_code == 2
    assert "GUID" in refused.output
