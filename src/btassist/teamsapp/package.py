"""Building the Teams app package: the manifest filled in for this deployment, and the icons."""

from __future__ import annotations

import io
import json
import re
import zipfile
from importlib import resources
from urllib.parse import urlsplit

from btassist import __version__

FILES = ("manifest.json", "en-us.json", "color.png", "outline.png")
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
    return buffer.getvalue()
