"""One-time download links: a file made for one person, taken once, gone after an hour at most.

Teams' personal chat has no simple way for a bot to hand over a file (a file card needs the
person's consent and their OneDrive), so the bot answers with a link to the file on this service.
The link is a bearer secret like a calendar link: only a hash of it is stored, the first download
deletes the row, and so does expiry (desk/cleanup.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, delete, select

from btassist.common.secret_links import new_secret, split_token, verifier_matches
from btassist.common.tabular import ExportedFile
from btassist.db.engine import Database
from btassist.desk.models import DownloadLink

LINK_LIFETIME = timedelta(hours=1)
DOWNLOAD_PREFIX = "/download/"
DOWNLOAD_PATH = re.compile(r"^/download/[^/]+$")


@dataclass(frozen=True)
class Download:
    """A file taken through its link."""

    name: str
    media_type: str
    data: bytes


def download_url(public_url: str, token: str) -> str:
    """The address of a one-time download link."""
    return f"{public_url.rstrip('/')}{DOWNLOAD_PREFIX}{token}"


def redact_download_path(path: str) -> str:
    """A request path fit for logs: a download link's secret blanked out."""
    return f"{DOWNLOAD_PREFIX}redacted" if DOWNLOAD_PATH.match(path) else path


async def offer_download(
    database: Database,
    *,
    person_id: int,
    file: ExportedFile,
    now: datetime,
    lifetime: timedelta = LINK_LIFETIME,
) -> str:
    """Keep `file` for `person_id` behind a new one-time link; the token is returned only here."""
    secret = new_secret()
    async with database.session() as session:
        session.add(
            DownloadLink(
                person_id=person_id,
                selector=secret.selector,
                verifier_hash=secret.verifier_hash,
                name=file.name[:200],
                media_type=file.media_type,
                data=file.data,
                created_at=now,
                expires_at=now + lifetime,
            )
        )
    return secret.token


async def take_download(database: Database, *, token: str, now: datetime) -> Download | None:
    """The file behind a live link, which stops working with this call; None for unknown,
    malformed, used and expired links alike."""
    parts = split_token(token)
    if parts is None:
        return None
    selector, verifier = parts
    async with database.session() as session:
        row = (
            await session.exec(
                select(DownloadLink).where(
                    col(DownloadLink.selector) == selector, col(DownloadLink.expires_at) > now
                )
            )
        ).first()
        if row is None or not verifier_matches(row.verifier_hash, verifier):
            return None
        deleted = await session.exec(delete(DownloadLink).where(col(DownloadLink.id) == row.id))
        if deleted.rowcount != 1:  # another request took it first
            return None
        return Download(name=row.name, media_type=row.media_type, data=row.data)
