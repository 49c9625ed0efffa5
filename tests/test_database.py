"""The schema comes from migrations alone, and behaves the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from btassist.db.engine import Database
from btassist.db.migrate import alembic_config, current_revision, head_revision, upgrade
from btassist.db.tables import metadata
from btassist.roster.models import Person, Region


async def test_database_is_at_the_newest_revision_with_regions_seeded(db: Database) -> None:
    assert await current_revision(db) == head_revision()
    async with db.session() as session:
        codes = set((await session.exec(select(Region.code))).all())
    assert codes == {"vgr", "kronoberg", "gavleborg", "orebro", "jonkoping", "halland"}


async def test_upgrading_again_changes_nothing(db: Database) -> None:
    await upgrade(db)
    await upgrade(db)
    assert await current_revision(db) == head_revision()


def test_the_head_revision_is_the_newest_migration() -> None:
    newest = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head_revision() == newest, "a new migration: set HEAD in db/migrate.py to its revision"


async def test_the_current_revision_is_the_one_alembic_reads(db: Database) -> None:
    async with db.engine.connect() as connection:
        alembic_reads = await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )
    assert await current_revision(db) == alembic_reads == head_revision()


async def test_an_empty_database_has_no_revision(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        assert await current_revision(database) is None
    finally:
        await database.dispose()


async def test_models_and_migrations_agree(db: Database) -> None:
    def differences(connection: object) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})  # type: ignore[arg-type]
        return list(compare_metadata(context, metadata))

    async with db.engine.connect() as connection:
        diff = await connection.run_sync(differences)
    assert diff == []


async def test_timestamps_come_back_timezone_aware_utc(db: Database) -> None:
    stockholm_noon = datetime(2026, 3, 29, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    async with db.session() as session:
        session.add(
            Person(
                email="a@example.org",
                name="A",
                region_code="vgr",
                created_at=stockholm_noon,
                updated_at=stockholm_noon,
            )
        )
    async with db.session() as session:
        person = (await session.exec(select(Person))).one()
    assert person.created_at == datetime(2026, 3, 29, 10, 0, tzinfo=UTC)
    assert person.created_at.tzinfo is UTC


async def test_naive_timestamps_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        async with db.session() as session:
            session.add(
                Person(
                    email="a@example.org",
                    name="A",
                    region_code="vgr",
                    created_at=datetime(2026, 1, 1),
                )
            )


async def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            session.add(Person(email="a@example.org", name="A", region_code="atlantis"))


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        await upgrade(database)
        async with database.engine.connect() as connection:
            mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar()
            keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar()
    finally:
        await database.dispose()
    assert (mode, keys) == ("wal", 1)


async def test_email_is_unique(db: Database) -> None:
    async with db.session() as session:
        session.add(Person(email="a@example.org", name="A", region_code="vgr"))
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            session.add(Person(email="a@example.org", name="B", region_code="vgr"))
