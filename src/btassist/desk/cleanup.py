"""Files in transit are deleted once they expire, whether or not anyone came back for them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, delete

from btassist.db.engine import Database
from btassist.desk.models import DownloadLink, PendingUpload

SWEEP_EVERY = timedelta(minutes=5)
"""How often each server process deletes expired files: the privacy page's "at most" adds this."""


async def forget_expired_files(database: Database, *, now: datetime) -> int:
    """Delete kept uploads and download links past their expiry; how many went."""
    async with database.session() as session:
        uploads = await session.exec(
            delete(PendingUpload).where(col(PendingUpload.expires_at) <= now)
        )
        links = await session.exec(delete(DownloadLink).where(col(DownloadLink.expires_at) <= now))
    return int(uploads.rowcount or 0) + int(links.rowcount or 0)
