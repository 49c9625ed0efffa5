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
from btassist.teamsapp.package import PackageError, build_package, package_problems
from tests.support.teamscheck import manifest_problems

APP_ID = "11111111-2222-4333-8444-555555555555"
URL = "https://bt.example.org"


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
    assert manifest["developer"]["privacyUrl"] == "https://bt.example.org/bot/privacy"
    assert manifest["developer"]["termsOfUseUrl"] == "https://bt.example.org/bot/terms"
    assert manifest["bots"][0]["supportsFiles"] is True  # file attachments in the personal chat
    raw = package.read("manifest.json").decode()
    assert not re.search(r"\{(app_id|public_url|host|version|developer)\}", raw)
    english = json.loads(package.read("en-us.json"))
    assert english["name.short"] == "BT assistant"
    for name, size in (("color.png", 192), ("outline.png", 32)):
        png = package.read(name)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", png[16:24]) == (size, size)


def package_files(**replaced: bytes) -> dict[str, bytes]:
    """The files of a built package, some replaced."""
    package = zipfile.ZipFile(io.BytesIO(build_package(app_id=APP_ID, public_url=URL)))
    return {name: package.read(name) for name in package.namelist()} | replaced


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name, data in files.items():
            package.writestr(name, data)
    return buffer.getvalue()


def test_the_manifest_passes_microsofts_newest_schema() -> None:
    files = package_files()
    manifest = json.loads(files["manifest.json"])

    assert manifest["manifestVersion"] == "1.30"
    assert manifest_problems(manifest, {"en-us.json": json.loads(files["en-us.json"])}) == []


def test_a_missing_field_fails_the_schema() -> None:
    manifest = json.loads(package_files()["manifest.json"])
    del manifest["developer"]["privacyUrl"]
    manifest["description"]["short"] = "x" * 81

    problems = manifest_problems(manifest, {})

    assert any("privacyUrl" in problem for problem in problems)
    assert any("/description/short" in problem for problem in problems)


def test_a_wrong_icon_size_or_an_opaque_outline_is_refused() -> None:
    files = package_files()
    opaque = bytearray(files["outline.png"])
    opaque[25] = 2  # colour type RGB: no alpha channel

    assert package_problems(zipped(files)) == []
    assert package_problems(zipped(package_files(**{"color.png": files["outline.png"]}))) == [
        "the color icon color.png is 32×32, Teams needs 192×192"
    ]
    assert package_problems(zipped(package_files(**{"outline.png": bytes(opaque)}))) == [
        "the outline icon outline.png has no transparency"
    ]
    del files["en-us.json"]
    assert package_problems(zipped(files)) == ["the en-us strings file is missing"]


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
