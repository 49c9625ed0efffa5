"""A person's data: the export holds everything stored about them and nothing of anyone else's,
erasure leaves only the course attendance the reply says is kept — in every table that can
name a person, on SQLite and PostgreSQL; and the chat, the download link and the commands.

`PLANTERS` plants a row in every such table; a test fails when the schema gains a table that
names a person and nobody planted in it, so export and erasure are tested on it too.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select, update
from sqlmodel import col
from typer.testing import CliRunner

from btassist.app import DATABASE, app_factory
from btassist.assessments.models import ItemKind, ItemStatus, PlanItem
from btassist.broadcast.models import (
    Broadcast,
    BroadcastEvent,
    BroadcastRecipient,
    BroadcastStatus,
)
from btassist.calendar.models import FeedToken
from btassist.cli import app as cli
from btassist.common.language import Language
from btassist.conversations.models import ConversationRef, ConversationState
from btassist.courses.models import CourseCompletion, CourseSession, Enrolment, EnrolmentStatus
from btassist.db.engine import Database
from btassist.db.tables import metadata
from btassist.desk.models import DownloadLink, PendingUpload
from btassist.faq.models import ForwardedQuestion, QuestionStatus
from btassist.localchat.loopback import serving
from btassist.outbox.models import OutboxMessage
from btassist.privacy.erase import erase_person, kept_on_erasure
from btassist.privacy.export import export_person
from btassist.privacy.http import PrivateLinksAccessLogger
from btassist.privacy.inventory import PERSON, PERSON_COLUMNS, PERSON_FIELDS_KEPT, Erasure
from btassist.privacy.models import ExportLink
from btassist.reach.models import AppInstall, InstallOutcome
from btassist.reminders.models import ReminderPause
from btassist.roster.models import (
    BTProgramme,
    BTType,
    Person,
    PersonRole,
    Placement,
    PlacementKind,
    Role,
)
from tests.support.bot import AMIR, RunningBot, local_settings
from tests.support.courses import add_course, add_session

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


# --- planting: one row about each of two people in every table that names a person ----------


@dataclass(frozen=True)
class Pair:
    """Anna (whose data is exported and erased) and Bertil (whose data must not leak)."""

    anna: Person
    bertil: Person
    past_session: int
    full_session: int
    course: int

    def both(self) -> tuple[tuple[Person, Person], tuple[Person, Person]]:
        """(person, the other) for Anna and for Bertil."""
        return (self.anna, self.bertil), (self.bertil, self.anna)


def pid(person: Person) -> int:
    assert person.id is not None
    return person.id


Planter = Callable[[Any, Pair], Awaitable[None]]
PLANTERS: dict[str, Planter] = {}


def plants(table: str) -> Callable[[Planter], Planter]:
    def registering(planter: Planter) -> Planter:
        PLANTERS[table] = planter
        return planter

    return registering


@plants("person")
async def _people(session: Any, pair: Pair) -> None:
    """The people themselves are created by `planted`."""


@plants("person_role")
async def _roles(session: Any, pair: Pair) -> None:
    for me, _ in pair.both():
        session.add(PersonRole(person_id=pid(me), role=Role.doctor))
        session.add(PersonRole(person_id=pid(me), role=Role.supervisor))


@plants("bt_programme")
async def _programmes(session: Any, pair: Pair) -> None:
    for me, other in pair.both():
        session.add(
            BTProgramme(
                doctor_id=pid(me),
                bt_type=BTType.block,
                start=date(2026, 9, 1),
                planned_end=date(2027, 8, 31),
                main_supervisor_id=pid(other),
            )
        )


@plants("placement")
async def _placements(session: Any, pair: Pair) -> None:
    for me, other in pair.both():
        session.add(
            Placement(
                doctor_id=pid(me),
                kind=PlacementKind.akut,
                unit=f"Akutkliniken där {me.name} placerades",
                start=date(2026, 9, 1),
                end=date(2026, 12, 31),
                supervisor_id=pid(other),
            )
        )


@plants("enrolment")
async def _enrolments(session: Any, pair: Pair) -> None:
    for me, _ in pair.both():
        session.add(
            Enrolment(
                session_id=pair.past_session, doctor_id=pid(me), status=EnrolmentStatus.attended
            )
        )
    # Anna holds the last seat of a session to come; Bertil waits for it.
    session.add(
        Enrolment(
            session_id=pair.full_session,
            doctor_id=pid(pair.anna),
            status=EnrolmentStatus.enrolled,
            queued_at=NOW - timedelta(days=2),
        )
    )
    session.add(
        Enrolment(
            session_id=pair.full_session,
            doctor_id=pid(pair.bertil),
            status=EnrolmentStatus.waitlisted,
            queued_at=NOW - timedelta(days=1),
        )
    )


@plants("course_completion")
async def _completions(session: Any, pair: Pair) -> None:
    for me, _ in pair.both():
        session.add(
            CourseCompletion(
                doctor_id=pid(me), course_id=pair.course, completed_on=date(2026, 11, 2)
            )
        )


@plants("conversation_ref")
async def _references(session: Any, pair: Pair) -> None:
    for me, _ in pair.both():
        reference = {"user": {"id": f"29:{me.aad_object_id}", "name": me.name}}
        session.add(
            ConversationRef(
                person_id=pid(me),
                channel_id="msteams",
                conversation_id=f"a:personal-{me.aad_object_id}",
                reference=json.dumps(reference),
            )
        )


@plants("conversation_state")
async def _states(session: Any, pair: Pair) -> None:
    for me, _ in pair.both():
        session.add(
            ConversationState(
                person_id=pid(me),
                flow="faq_reply",
                step="text",
                payload={"draft": f"utkast av {me.name}"},
                expires_at=NOW + timedelta(hours=1),
            )
        )


@plants("feed_token")
async def _feed_tokens(session: Any, pair: Pair) -> None:
    for me, _ in pair.both():
        session.add(
            FeedToken(person_id=pid(me), selector=f"sel{pid(me):013d}", verifier_hash="0" * 64)
        )


@plants("faq_question")
async def _questions(session: Any, pair: Pair) -> None:
    for me, other in pair.both():
        session.add(
            ForwardedQuestion(
                asker_id=pid(me),
                region_code="halland",
                language=Language.sv,
                text=f"Fråga från {me.name}: hur söker jag ledigt för kursen?",
                status=QuestionStatus.answered,
                answer=f"Svaret skrevs av person {pid(other)}",
                answered_by_id=pid(other),
                answered_at=NOW,
            )
        )


@plants("outbox_message")
async def _notices(session: Any, pair: Pair) -> None:
    for me, _ in pair.both():
        session.add(
            OutboxMessage(
                person_id=pid(me),
                kind="waitlist_promoted",
                params={"session_id": pair.full_session},
                dedupe_key=f"waitlist_promoted:planted-{pid(me)}",
            )
        )


@plants("plan_item")
async def _plan_items(session: Any, pair: Pair) -> None:
    for me, other in pair.both():
        session.add(
            PlanItem(
                doctor_id=pid(me),
                key="assessment:1:1",
                kind=ItemKind.assessment,
                due=date(2026, 10, 1),
                due_known_on=date(2026, 9, 1),
                status=ItemStatus.done,
                due_edited_by=pid(other),
                due_edited_at=NOW,
                done_on=date(2026, 10, 1),
                instrument="Mini-CEX",
                assessor=f"bedömare för {me.name}",
                done_by=pid(other),
                done_recorded_at=NOW,
            )
        )


@plants("reminder_pause")
async def _pauses(session: Any, pair: Pair) -> None:
    for me, _ in pair.both():
        session.add(ReminderPause(person_id=pid(me), kind="weekly_digest", paused_at=NOW))


@plants("app_install")
async def _installs(session: Any, pair: Pair) -> None:
    for me, _ in pair.both():
        session.add(
            AppInstall(person_id=pid(me), outcome=InstallOutcome.installed, installed_at=NOW)
        )


@plants("export_link")
async def _export_links(session: Any, pair: Pair) -> None:
    for me, _ in pair.both():
        session.add(ExportLink(person_id=pid(me), token_hash=f"{pid(me):064d}", expires_at=NOW))


@plants("pending_upload")
async def _uploads(session: Any, pair: Pair) -> None:
    for me, _ in pair.both():
        session.add(
            PendingUpload(person_id=pid(me), name="people.xlsx", data=b"rows", expires_at=NOW)
        )


@plants("download_link")
async def _downloads(session: Any, pair: Pair) -> None:
    for me, _ in pair.both():
        session.add(
            DownloadLink(
                person_id=pid(me),
                selector=f"sel{pid(me):013d}",
                verifier_hash=f"{pid(me):064d}",
                name="roster.xlsx",
                media_type="application/octet-stream",
                data=b"rows",
                expires_at=NOW,
            )
        )


@plants("broadcast")
async def _broadcasts(session: Any, pair: Pair) -> None:
    for me, _ in pair.both():
        session.add(
            Broadcast(
                author_id=pid(me),
                author_label=me.name,
                regions="halland",
                text=f"Utskick från {me.name}",
                status=BroadcastStatus.queued,
                created_at=NOW,
            )
        )
    await session.flush()


@plants("broadcast_recipient")
async def _broadcast_copies(session: Any, pair: Pair) -> None:
    for me, other in pair.both():  # each received the other's announcement
        written = (
            await session.exec(select(Broadcast.id).where(Broadcast.author_id == pid(other)))
        ).scalar_one()
        session.add(BroadcastRecipient(broadcast_id=written, person_id=pid(me), read_at=NOW))


@plants("broadcast_event")
async def _broadcast_events(session: Any, pair: Pair) -> None:
    for me, _ in pair.both():
        written = (
            await session.exec(select(Broadcast.id).where(Broadcast.author_id == pid(me)))
        ).scalar_one()
        session.add(
            BroadcastEvent(
                broadcast_id=written, actor_id=pid(me), actor_label=me.name, action="queued", at=NOW
            )
        )


async def planted(database: Database) -> Pair:
    """Anna and Bertil with a row each (or more) in every table that names a person."""
    course = await add_course(database, "test-stas", "STaS (test)")
    past = await add_session(database, course, key="past", starts=NOW - timedelta(days=30))
    full = await add_session(database, course, key="full", starts=NOW + timedelta(days=14))
    async with database.session() as session:
        await session.exec(
            update(CourseSession).where(col(CourseSession.id) == full.id).values(capacity=1)
        )
        people = [
            Person(
                email=f"{name.lower()}.{surname.lower()}@halland.example.org",
                name=f"{name} {surname}",
                aad_object_id=f"aad-{name.lower()}",
                language=Language.sv,
                region_code="halland",
            )
            for name, surname in (("Anna", "Annersdotter"), ("Bertil", "Bertilsson"))
        ]
        session.add_all(people)
        await session.flush()
        assert course.id is not None
        assert past.id is not None
        assert full.id is not None
        pair = Pair(people[0], people[1], past.id, full.id, course.id)
        for planter in PLANTERS.values():
            await planter(session, pair)
    return pair


def bertils(pair: Pair) -> list[str]:
    """What identifies Bertil or is his alone: none of it may be in Anna's export."""
    bertil = pair.bertil
    return [bertil.name, bertil.email, str(bertil.aad_object_id), "Bertilsson", "Fråga från Bertil"]


# --- the map and the schema -------------------------------------------------------------------


def test_every_column_that_names_a_person_has_a_rule() -> None:
    in_schema = {(PERSON, "id")} | {
        (table.name, key.parent.name)
        for table in metadata.tables.values()
        for key in table.foreign_keys
        if key.column.table.name == PERSON
    }
    assert in_schema == {(c.table, c.column) for c in PERSON_COLUMNS}
    for column in PERSON_COLUMNS:
        if column.erasure is Erasure.unlink:  # the name goes, the row stays
            assert metadata.tables[column.table].c[column.column].nullable, column
    person = metadata.tables[PERSON]
    cleared = [c for c in person.columns if c.name not in PERSON_FIELDS_KEPT]
    assert all(c.nullable for c in cleared)  # erasure can clear them


def test_every_table_that_names_a_person_is_planted() -> None:
    assert set(PLANTERS) == {c.table for c in PERSON_COLUMNS}


# --- export and erase ---------------------------------------------------------------------------


async def rows_naming(database: Database, person_id: int) -> dict[str, int]:
    """Rows per `table.column` that name the person."""
    found = {}
    async with database.session(write_lock=False) as session:
        connection = await session.connection()
        for column in PERSON_COLUMNS:
            table = metadata.tables[column.table]
            count = (
                await connection.execute(
                    select(func.count()).where(table.c[column.column] == person_id)
                )
            ).scalar_one()
            found[f"{column.table}.{column.column}"] = int(count)
    return found


async def test_the_export_holds_everything_planted_and_nothing_of_anyone_else(
    db: Database,
) -> None:
    pair = await planted(db)
    before = await rows_naming(db, pid(pair.anna))

    exported = await export_person(db, person_id=pid(pair.anna), now=NOW)

    assert exported is not None
    assert exported["person"]["email"] == pair.anna.email
    for column in PERSON_COLUMNS:  # every planted row, in every table
        key = f"{column.table}.{column.column}"
        if column.table == PERSON:
            continue
        shown = exported["tables"] if column.own is None else exported["named_in"]
        listed = shown[column.table if column.own is None else key]
        assert len(listed) == before[key] > 0, key
    text = json.dumps(exported, ensure_ascii=False)
    for planted_text in (
        "utkast av Anna Annersdotter",  # conversation state
        "Fråga från Anna Annersdotter",  # her question
        f"Svaret skrevs av person {pid(pair.anna)}",  # her answer to Bertil: her part of his row
        "Akutkliniken där Anna Annersdotter placerades",
        "bedömare för Anna Annersdotter",
        f"a:personal-{pair.anna.aad_object_id}",
        "weekly_digest",
    ):
        assert planted_text in text, planted_text
    for his in bertils(pair):
        assert his not in text, his
    assert "0" * 64 not in text  # secrets' hashes are left out
    assert json.loads(text) == exported  # plain JSON data


async def test_erasure_leaves_only_the_attendance_it_says_it_keeps(db: Database) -> None:
    pair = await planted(db)
    anna, bertil = pid(pair.anna), pid(pair.bertil)
    bertil_before = await rows_naming(db, bertil)
    assert await kept_on_erasure(db, person_id=anna) == {"enrolment": 1, "course_completion": 1}

    erased = await erase_person(db, person_id=anna, now=NOW)

    assert erased is not None
    assert erased.person_kept
    assert erased.kept == {"enrolment": 1, "course_completion": 1}
    assert erased.withdrawn == 1
    left = {key: n for key, n in (await rows_naming(db, anna)).items() if n}
    assert left == {"person.id": 1, "enrolment.doctor_id": 1, "course_completion.doctor_id": 1}
    exported = await export_person(db, person_id=anna, now=NOW)
    assert exported is not None
    assert exported["person"]["name"] == "Anna Annersdotter"  # whose attendance it is
    assert exported["person"]["aad_object_id"] is None
    assert exported["person"]["language"] is None
    assert exported["person"]["active"] is False
    assert [e["status"] for e in exported["tables"]["enrolment"]] == ["attended"]
    # Bertil's own rows are all there (the rows of Anna's that named him went with hers).
    bertil_after = await rows_naming(db, bertil)
    his_own = {f"{c.table}.{c.column}" for c in PERSON_COLUMNS if c.own is None}
    assert {k: n for k, n in bertil_after.items() if k in his_own} == {
        k: n for k, n in bertil_before.items() if k in his_own
    } | {"outbox_message.person_id": 2}  # he got her seat, and a notice saying so
    async with db.session(write_lock=False) as session:
        his = (
            await session.exec(
                select(Enrolment.status).where(
                    Enrolment.doctor_id == bertil, Enrolment.session_id == pair.full_session
                )
            )
        ).one()
        answered_by = (await session.exec(select(ForwardedQuestion.answered_by_id))).all()
    assert his == (EnrolmentStatus.enrolled,)
    assert anna not in {row[0] for row in answered_by}


async def test_erasing_someone_without_attendance_removes_them_entirely(db: Database) -> None:
    pair = await planted(db)
    bertil = pid(pair.bertil)
    async with db.session() as session:  # Bertil never attended anything
        await session.exec(
            update(Enrolment)
            .where(col(Enrolment.doctor_id) == bertil)
            .values(status=EnrolmentStatus.cancelled)
        )
        await session.exec(
            CourseCompletion.__table__.delete().where(  # type: ignore[attr-defined]
                CourseCompletion.__table__.c.doctor_id == bertil  # type: ignore[attr-defined]
            )
        )

    erased = await erase_person(db, person_id=bertil, now=NOW)

    assert erased is not None
    assert not erased.person_kept
    assert not any((await rows_naming(db, bertil)).values())
    assert await export_person(db, person_id=bertil, now=NOW) is None


# --- in the chat, on the web and on the command line -------------------------------------------


async def test_my_data_is_a_one_time_download_link(bot: RunningBot) -> None:
    reply = await bot.chat.say(AMIR, "mina uppgifter")

    assert "Dina uppgifter" in reply.text
    [download] = [b for b in reply.buttons if b.title == "Ladda ner mina uppgifter"]
    link = download.url
    assert link is not None
    assert link.startswith(f"{bot.url}/privacy/export/")
    async with aiohttp.ClientSession() as http:
        async with http.get(link) as page:
            shown = await page.text()
            assert page.status == 200
            assert page.headers["Cache-Control"] == "no-store"
        async with http.get(link) as again:  # looking does not use it up
            assert again.status == 200
        assert '<form method="post"' in shown
        async with http.post(link) as response:
            assert response.status == 200
            assert "attachment" in response.headers["Content-Disposition"]
            data = json.loads(await response.text())
        async with http.post(link) as second:
            assert second.status == 404  # once only
        async with http.get(link) as gone:
            assert "Länken har redan använts eller gått ut" in await gone.text()
    assert data["person"]["email"] == AMIR.email
    assert data["tables"]["conversation_ref"]  # the chat he is writing in
    assert data["tables"]["bt_programme"]


async def test_an_expired_link_opens_nothing(bot: RunningBot) -> None:
    reply = await bot.chat.say(AMIR, "my data")
    link = reply.buttons[0].url
    assert link is not None
    async with bot.app[DATABASE].session() as session:
        await session.exec(update(ExportLink).values(expires_at=datetime.now(UTC)))
    async with aiohttp.ClientSession() as http, http.post(link) as response:
        assert response.status == 404


async def test_erase_my_data_asks_first_then_says_what_is_kept(bot: RunningBot) -> None:
    asked = await bot.chat.say(AMIR, "radera mina uppgifter")
    assert "Radera dina uppgifter?" in asked.text
    assert "Inget om dig blir kvar" in asked.text  # Amir attended no course

    done = await bot.chat.say(AMIR, "ja")

    assert "Dina uppgifter är raderade." in done.text
    assert "Inget om dig blir kvar" in done.text
    database = bot.app[DATABASE]
    async with database.session(write_lock=False) as session:
        gone = (await session.exec(select(Person).where(Person.email == AMIR.email))).first()
    assert gone is None
    after = await bot.chat.say(AMIR, "hej")  # a stranger now
    assert "Dina uppgifter" not in after.text


async def test_an_erasure_not_confirmed_erases_nothing(bot: RunningBot) -> None:
    await bot.chat.say(AMIR, "erase my data")
    await bot.chat.say(AMIR, "avbryt")
    database = bot.app[DATABASE]
    async with database.session(write_lock=False) as session:
        amir = (await session.exec(select(Person).where(Person.email == AMIR.email))).first()
    assert amir is not None


async def test_export_and_erase_on_the_command_line(db: Database) -> None:
    pair = await planted(db)
    env = {"BTASSIST_DATABASE_URL": db.url}
    runner = CliRunner()

    exported = await asyncio.to_thread(
        runner.invoke, cli, ["privacy", "export", pair.anna.email.upper()], env=env
    )
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.stdout)["person"]["email"] == pair.anna.email

    unknown = await asyncio.to_thread(
        runner.invoke, cli, ["privacy", "export", "nobody@example.org"], env=env
    )
    assert unknown.exit_code == 1

    declined = await asyncio.to_thread(
        runner.invoke, cli, ["privacy", "erase", pair.anna.email], env=env, input="n\n"
    )
    assert declined.exit_code == 1
    assert "Kept: 1 enrolment, 1 course_completion" in declined.output
    assert (await rows_naming(db, pid(pair.anna)))["feed_token.person_id"] == 1

    erased = await asyncio.to_thread(
        runner.invoke, cli, ["privacy", "erase", pair.anna.email, "--yes"], env=env
    )
    assert erased.exit_code == 0, erased.output
    assert "kept: name, e-mail and region (inactive), 1 course_completion, 1 enrolment" in (
        erased.output
    )
    assert (await rows_naming(db, pid(pair.anna)))["feed_token.person_id"] == 0


async def test_the_privacy_page_names_the_ways_to_see_and_erase_ones_data(bot: RunningBot) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{bot.url}/privacy") as response:
            swedish = await response.text()
        async with http.get(f"{bot.url}/privacy?lang=en") as response:
            english = await response.text()
    for page, words in ((swedish, "”mina uppgifter”"), (english, "”my data”")):
        assert words in page
        assert "btassist privacy export" in page
        assert "btassist privacy erase" in page


async def test_access_logs_never_show_an_export_link(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = app_factory(local_settings(db_url))
    secret = "S" * 43
    access = logging.getLogger("aiohttp.access")
    async with (
        serving(app, access_log_class=PrivateLinksAccessLogger, access_log=access) as url,
        aiohttp.ClientSession() as http,
    ):
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            async with http.get(f"{url}/privacy/export/{secret}") as response:
                assert response.status == 404
            async with http.get(f"{url}/calendar/{'C' * 48}.ics") as response:
                assert response.status == 404
    assert secret not in caplog.text
    assert "C" * 48 not in caplog.text
    assert '"GET /privacy/export/redacted HTTP/1.1" 404' in caplog.text


async def test_an_erased_address_leaves_the_lists_announcements_were_sent_to(
    db: Database,
) -> None:
    pair = await planted(db)
    anna, bertil = pair.anna.email, pair.bertil.email
    async with db.session() as session:
        session.add(
            Broadcast(
                author_label="cli:koordinator",
                regions="halland",
                audience={"emails": [anna.upper(), bertil]},
                text="Till en lista",
                created_at=NOW,
            )
        )
    assert pair.anna.id is not None
    await erase_person(db, person_id=pair.anna.id, now=NOW)
    async with db.session(write_lock=False) as session:
        audience = (
            await session.exec(select(Broadcast.audience).where(Broadcast.text == "Till en lista"))
        ).scalar_one()
    assert audience == {"emails": [bertil]}
