"""Building the Teams app package: the manifest filled in for this deployment, and the icons."""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
from importlib import resources
from urllib.parse import urlsplit

from btassist import __version__

FILES = ("manifest.json", "en-us.json", "color.png", "outline.png")
ICON_SIZES = {"color": 192, "outline": 32}  # pixels, square, as Teams requires
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ALPHA_COLOR_TYPES = {4, 6}  # grey + alpha, RGBA: the outline icon must be transparent
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class PackageError(ValueError):
    """The settings cannot make a valid Teams app package."""


def build_package(*, app_id: str, public_url: str, developer: str = "BT-assistenten") -> bytes:
    """The zip Teams installs ("Upload a custom app"), for this bot registration and host."""
    if not _GUID.match(app_id):
        raise PackageError("MicrosoftAppId must be the bot registration's app id (a GUID)")
    parts = urlsplit(public_url)
    if parts.scheme != "https" or not parts.hostname:
        raise PackageError("BTASSIST_PUBLIC_URL must be the https:// address Teams reaches")
    values = {
        "{app_id}": app_id,
        "{public_url}": public_url.rstrip("/"),
        "{host}": parts.hostname,
        "{version}": __version__,
        "{developer}": developer,
    }
    here = resources.files(__package__)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name in FILES:
            data = here.joinpath(name).read_bytes()
            if name == "manifest.json":
                text = data.decode("utf-8")
                for placeholder, value in values.items():
                    text = text.replace(placeholder, value)
                json.loads(text)  # the filled-in manifest must still be JSON
                data = text.encode("utf-8")
            package.writestr(name, data)
    built = buffer.getvalue()
    problems = package_problems(built)
    if problems:
        raise PackageError("; ".join(problems))
    return built


def package_problems(data: bytes) -> list[str]:
    """What Teams would refuse in a package beyond its schema: missing files, wrong icons."""
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return ["not a zip file"]
    names = set(package.namelist())
    if "manifest.json" not in names:
        return ["manifest.json is missing"]
    try:
        manifest = json.loads(package.read("manifest.json"))
    except ValueError as error:
        return [f"manifest.json is not JSON: {error}"]
    problems = []
    for kind, size in ICON_SIZES.items():
        file = str(manifest.get("icons", {}).get(kind, ""))
        if file not in names:
            problems.append(f"the {kind} icon {file!r} is missing")
            continue
        problems += _icon_problems(kind, file, package.read(file), size)
    for language in manifest.get("localizationInfo", {}).get("additionalLanguages", []):
        if language.get("file") not in names:
            problems.append(f"the {language.get('languageTag')} strings file is missing")
    return problems


def _icon_problems(kind: str, file: str, png: bytes, size: int) -> list[str]:
    if png[:8] != PNG_SIGNATURE or png[12:16] != b"IHDR":
        return [f"the {kind} icon {file} is not a PNG"]
    width, height, _, color_type = struct.unpack(">IIBB", png[16:26])
    problems = []
    if (width, height) != (size, size):
        problems.append(f"the {kind} icon {file} is {width}×{height}, Teams needs {size}×{size}")
    if kind == "outline" and color_type not in ALPHA_COLOR_TYPES:
        problems.append(f"the outline icon {file} has no transparency")
    return problems
