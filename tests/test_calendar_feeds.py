"""Calendar feeds over HTTP from the running app, read back by icalendar and by vobject."""

from __future__ import annotations

import asyncio
import gzip
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import icalendar
import pytest
import recurring_ical_events
import vobject
from multidict import CIMultiDict
from sqlmodel import select

from btassist.app import app_factory
from btassist.calendar import http as http_module
from btassist.calendar.http import FeedAccessLogger, redact_path
from btassist.calendar.models import FeedToken
from btassist.courses.enrolment import cancel_session, enrol
from btassist.courses.models import Course, CourseKind, CourseSession, Recurrence, SessionSkip
from btassist.courses.schedule import occurrences
from btassist.db.engine import Database
from btassist.localchat.client import BotReply, ChatClient
from btassist.localchat.loopback import serving
from btassist.outbox.unit_of_work import UnitOfWork
from btassist.roster.models import Person
from tests.support.bot import AMIR, ELENA, KARIN, RunningBot, local_settings
from tests.support.courses import add_course

STOCKHOLM = ZoneInfo("Europe/Stockholm")
FEED_LINK = re.compile(r"https?://[^\s)]+/calendar/([A-Za-z0-9_-]{48})\.ics")
WEBCAL_LINK = re.compile(r"webcal://[^\s)]+/calendar/[A-Za-z0-9_-]{48}\.ics")


@dataclass
class Fetched:
    """One HTTP answer, body read."""

    status: int
    headers: CIMultiDict[str]
    body: bytes

    @property
    def calendar(self) -> icalendar.Calendar:
        """The body parsed by icalendar."""
        return icalendar.Calendar.from_ical(self.body)

    def events(self) -> dict[str, icalendar.Event]:
        """VEVENTs by UID."""
        return {str(e["UID"]): e for e in self.calendar.walk("VEVENT")}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client, as a calendar app is; it does not decompress by itself."""
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        yield session


async def fetch(
    http: aiohttp.ClientSession, bot: RunningBot, path: str, method: str = "GET", **headers: str
) -> Fetched:
    headers = {"Accept-Encoding": "identity", **headers}  # aiohttp would ask for gzip
    async with http.request(method, bot.url + path, headers=headers) as response:
        return Fetched(response.status, response.headers.copy(), await response.read())


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Stockholm wall-clock time as an aware UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM).astimezone(UTC)


async def add_session(
    db: Database, course: Course, key: str, starts: datetime, hours: float = 2, **fields: Any
) -> CourseSession:
    assert course.id is not None
    async with db.session() as session:
        row = CourseSession(
            course_id=course.id,
            key=key,
            region_code="halland",
            starts_at=starts,
            ends_at=starts + timedelta(hours=hours),
            location="Hallands sjukhus Halmstad, sal 3; plan 2",
            **fields,
        )
        session.add(row)
    return row


async def person_id(db: Database, email: str) -> int:
    async with db.session(write_lock=False) as session:
        person = (await session.exec(select(Person).where(Person.email == email))).one()
    assert person.id is not None
    return person.id


def link_path(reply: BotReply) -> str:
    match = FEED_LINK.search(reply.text)
    assert match, reply.text
    return f"/calendar/{match.group(1)}.ics"


# The personal feed --------------------------------------------------------------------------


async def test_doctor_subscribes_once_and_sees_sessions_waitlist_and_placements(
    chat: ChatClient, bot: RunningBot, db: Database, http: aiohttp.ClientSession
) -> None:
    course = await add_course(db, "test-ekg", "EKG-tolkning", title_en="ECG reading")
    one_seat = await add_session(db, course, "test-ekg-1", local(2027, 2, 3, 9), capacity=1)
    roomy = await add_course(db, "test-rtg", "Röntgen för BT", title_en="X-ray for BT")
    seat = await add_session(
        db, roomy, "test-rtg-1", local(2027, 2, 10, 13), meeting_url="https://teams.example/m/1"
    )
    amir, elena = await person_id(db, AMIR.email), await person_id(db, ELENA.email)
    now = datetime.now(UTC)
    assert one_seat.id is not None
    assert seat.id is not None
    await enrol(db, zone=STOCKHOLM, doctor_id=elena, session_id=one_seat.id, now=now)
    await enrol(db, zone=STOCKHOLM, doctor_id=amir, session_id=one_seat.id, now=now)  # waitlisted
    await enrol(db, zone=STOCKHOLM, doctor_id=amir, session_id=seat.id, now=now)

    reply = await chat.say(AMIR, "kalender")
    assert "Din BT" in reply.text
    assert "Psykiatri: Psykiatriska kliniken Varberg" in reply.text
    assert WEBCAL_LINK.search(reply.text)
    assert "Prenumerera från webben" in reply.text  # Outlook
    assert "Från webbadress" in reply.text  # Google
    assert "Lägg till prenumererad kalender" in reply.text  # Apple
    google = reply.button("Lägg till i Google Kalender").url
    assert google is not None
    assert google.startswith("https://calendar.google.com/calendar/r?cid=webcal%3A%2F%2F")

    feed = await fetch(http, bot, link_path(reply))
    assert feed.status == 200
    assert feed.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert feed.headers["Cache-Control"].startswith("private")
    calendar = feed.calendar
    assert calendar["VERSION"] == "2.0"
    assert calendar["CALSCALE"] == "GREGORIAN"
    assert calendar["METHOD"] == "PUBLISH"
    assert str(calendar["PRODID"]).startswith("-//BT-assistenten//")
    assert "X-WR-CALNAME" in calendar
    assert calendar["X-WR-TIMEZONE"] == "Europe/Stockholm"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in feed.body
    assert b"X-PUBLISHED-TTL:PT1H" in feed.body
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Stockholm"]

    events = feed.events()
    waiting = events[f"session-{one_seat.id}@127.0.0.1"]
    assert waiting["STATUS"] == "TENTATIVE"
    assert str(waiting["SUMMARY"]) == "Väntelista: EKG-tolkning"
    assert "väntelistan" in str(waiting["DESCRIPTION"])
    booked = events[f"session-{seat.id}@127.0.0.1"]
    assert booked["STATUS"] == "CONFIRMED"
    assert str(booked["LOCATION"]) == "Hallands sjukhus Halmstad, sal 3; plan 2"
    assert str(booked["URL"]) == "https://teams.example/m/1"
    assert "Möteslänk: https://teams.example/m/1" in str(booked["DESCRIPTION"])
    assert booked["DTSTART"].dt == local(2027, 2, 10, 13)
    for needed in ("DTSTAMP", "LAST-MODIFIED", "SEQUENCE", "CREATED"):
        assert needed in booked
    placements = [e for e in events.values() if "Placering" in e.categories]
    assert len(placements) == 3
    psychiatry = next(e for e in placements if "Psykiatriska kliniken" in str(e["SUMMARY"]))
    assert isinstance(psychiatry["DTSTART"].dt, date)
    assert not isinstance(psychiatry["DTSTART"].dt, datetime)
    assert {str(e["SUMMARY"]) for e in events.values() if "BT" in e.categories} == {
        "BT börjar",
        "BT slutar (planerat)",
    }
    assert "Elena" not in feed.body.decode()

    # An independent parser reads the same feed.
    parsed = vobject.readOne(feed.body.decode())
    by_uid = {e.uid.value: e for e in parsed.vevent_list}
    assert by_uid[f"session-{seat.id}@127.0.0.1"].dtstart.value == local(2027, 2, 10, 13)
    assert by_uid[f"session-{one_seat.id}@127.0.0.1"].status.value == "TENTATIVE"


async def test_english_doctor_gets_the_feed_in_english(
    chat: ChatClient, bot: RunningBot, db: Database, http: aiohttp.ClientSession
) -> None:
    course = await add_course(db, "test-ekg", "EKG-tolkning", title_en="ECG reading")
    session = await add_session(db, course, "test-ekg-1", local(2027, 2, 3, 9))
    assert session.id is not None
    await enrol(
        db,
        zone=STOCKHOLM,
        doctor_id=await person_id(db, ELENA.email),
        session_id=session.id,
        now=datetime.now(UTC),
    )
    reply = await chat.say(ELENA, "calendar")
    assert "Your BT" in reply.text
    assert "Subscribe from web" in reply.text
    feed = await fetch(http, bot, link_path(reply))
    events = feed.events()
    assert str(events[f"session-{session.id}@127.0.0.1"]["SUMMARY"]) == "ECG reading"
    assert "BT starts" in {str(e["SUMMARY"]) for e in events.values()}


async def test_asking_again_does_not_show_or_change_the_link(
    chat: ChatClient, bot: RunningBot, http: aiohttp.ClientSession
) -> None:
    first = await chat.say(AMIR, "kalender")
    again = await chat.say(AMIR, "kalender")
    assert not FEED_LINK.search(again.text)
    assert "Du har redan en kalenderlänk" in again.text
    assert (await fetch(http, bot, link_path(first))).status == 200


async def test_new_link_stops_the_old_one_at_once(
    chat: ChatClient, bot: RunningBot, db: Database, http: aiohttp.ClientSession
) -> None:
    old = link_path(await chat.say(AMIR, "kalender"))
    assert (await fetch(http, bot, old)).status == 200
    again = await chat.say(AMIR, "kalender")
    asked = await chat.click(AMIR, again, "Ny kalenderlänk")
    assert "Din nuvarande kalenderlänk slutar fungera direkt" in asked.text
    assert (await fetch(http, bot, old)).status == 200  # nothing changes before "Ja"
    rotated = await chat.click(AMIR, asked, "Ja, skapa ny länk")
    assert "Den gamla slutade fungera nu" in rotated.text
    new = link_path(rotated)
    assert new != old
    assert "Ja, skapa ny länk" not in [b.title for b in rotated.buttons]
    again_yes = await chat.click(AMIR, asked, "Ja, skapa ny länk")  # the old card's button
    assert "väntar jag inte längre på" in again_yes.text

    gone = await fetch(http, bot, old)
    assert gone.status == 404
    assert (await fetch(http, bot, new)).status == 200
    await chat.say(AMIR, "ny kalenderlänk")
    typed = link_path(await chat.say(AMIR, "ja"))  # typed confirmation
    assert (await fetch(http, bot, new)).status == 404
    assert (await fetch(http, bot, typed)).status == 200
    await chat.say(AMIR, "new calendar link")
    left = await chat.say(AMIR, "avbryt")
    assert "Inget ändrades" in left.text
    assert (await fetch(http, bot, typed)).status == 200

    # Unknown, malformed and revoked links are indistinguishable.
    unknown = await fetch(http, bot, "/calendar/" + "A" * 48 + ".ics")
    malformed = await fetch(http, bot, "/calendar/not-a-token.ics")
    same_selector = await fetch(http, bot, typed[:26] + "B" * 32 + ".ics")
    for answer in (unknown, malformed, same_selector):
        assert answer.status == 404
        assert answer.body == gone.body
        assert answer.headers["Content-Type"] == gone.headers["Content-Type"]
    assert "Kalendern finns inte" in gone.body.decode()


async def test_only_a_hash_of_the_secret_is_stored(chat: ChatClient, db: Database) -> None:
    token = link_path(await chat.say(AMIR, "kalender")).removeprefix("/calendar/")[:48]
    async with db.session(write_lock=False) as session:
        rows = (await session.exec(select(FeedToken))).all()
    assert len(rows) == 1
    stored = " ".join(str(value) for value in rows[0].model_dump().values())
    assert token[16:] not in stored
    assert rows[0].selector == token[:16]
    assert len(rows[0].verifier_hash) == 64


async def test_supervisors_get_their_regions_public_feed(
    chat: ChatClient, bot: RunningBot, db: Database, http: aiohttp.ClientSession
) -> None:
    course = await add_course(db, "test-ekg", "EKG-tolkning")
    session = await add_session(db, course, "test-ekg-1", local(2027, 2, 3, 9))
    reply = await chat.say(KARIN, "kalender")
    assert "Personliga kalendrar finns för BT-läkare" in reply.text
    assert not FEED_LINK.search(reply.text)
    match = re.search(r"https?://[^\s)]+(/calendar/region/halland\.ics\?lang=sv)", reply.text)
    assert match, reply.text
    new_link = await chat.say(KARIN, "ny kalenderlänk")
    assert "Personliga kalendrar finns för BT-läkare" in new_link.text

    feed = await fetch(http, bot, match.group(1))
    assert feed.status == 200
    assert feed.headers["Cache-Control"].startswith("public")
    assert f"session-{session.id}@127.0.0.1" in feed.events()
    assert str(feed.calendar["X-WR-CALNAME"]) == "BT-kurser och seminarier i Region Halland"


# Time zones and recurrence ------------------------------------------------------------------


async def test_daylight_saving_sundays_and_a_weekly_series_across_them(
    bot: RunningBot, db: Database, http: aiohttp.ClientSession
) -> None:
    course = await add_course(db, "test-dst", "Onsdagsundervisning")
    march = await add_session(db, course, "test-dst-march", local(2027, 3, 28, 10))
    october = await add_session(db, course, "test-dst-october", local(2027, 10, 31, 10))
    # 13:00 every Wednesday from 17 March to 7 April, not on 31 March.
    weekly = await add_session(
        db,
        course,
        "test-dst-weekly",
        local(2027, 3, 17, 13),
        recurrence=Recurrence.weekly,
        repeat_until=date(2027, 4, 7),
    )
    assert weekly.id is not None
    async with db.session() as session:
        session.add(SessionSkip(session_id=weekly.id, occurs_on=date(2027, 3, 31)))

    feed = await fetch(http, bot, "/calendar/course/test-dst.ics")
    assert feed.status == 200
    expected = {
        f"session-{march.id}@127.0.0.1": datetime(2027, 3, 28, 8, 0, tzinfo=UTC),  # CEST
        f"session-{october.id}@127.0.0.1": datetime(2027, 10, 31, 9, 0, tzinfo=UTC),  # CET
    }
    # The feed names the zone; to prove our VTIMEZONE itself is right, a second copy renames
    # it, so that icalendar cannot fall back on its own tz database.
    renamed = re.sub(rb"TZID([:=])Europe/Stockholm", rb"TZID\1BT-Local-Time", feed.body)
    assert renamed.count(b"BT-Local-Time") == feed.body.count(b"TZID") > 4
    for body in (feed.body, renamed):
        events = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(body).walk("VEVENT")}
        for uid, start in expected.items():
            assert events[uid]["DTSTART"].dt.astimezone(UTC) == start, body[:40]
            assert events[uid]["DTEND"].dt.astimezone(UTC) == start + timedelta(hours=2)
        parsed = vobject.readOne(body.decode())  # vobject always reads the VTIMEZONE
        by_uid = {e.uid.value: e for e in parsed.vevent_list}
        for uid, start in expected.items():
            assert by_uid[uid].dtstart.value.astimezone(UTC) == start

        series = [
            e
            for e in recurring_ical_events.of(icalendar.Calendar.from_ical(body)).between(
                datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 5, 1, tzinfo=UTC)
            )
            if str(e["UID"]) == f"session-{weekly.id}@127.0.0.1"
        ]
        assert sorted(e["DTSTART"].dt.astimezone(UTC) for e in series) == [
            datetime(2027, 3, 17, 12, 0, tzinfo=UTC),  # 13:00 CET
            datetime(2027, 3, 24, 12, 0, tzinfo=UTC),
            datetime(2027, 4, 7, 11, 0, tzinfo=UTC),  # 13:00 CEST; 31 March is skipped
        ]
        # What calendars expand is what the rest of the service takes the series to be.
        known = occurrences(weekly, STOCKHOLM, {date(2027, 3, 31)})
        assert sorted(e["DTSTART"].dt for e in series) == [start for start, _ in known]
        vseries = {e.uid.value: e for e in vobject.readOne(body.decode()).vevent_list}
        starts = vseries[f"session-{weekly.id}@127.0.0.1"].getrruleset(addRDate=True)
        assert [s.astimezone(UTC) for s in starts] == sorted(
            e["DTSTART"].dt.astimezone(UTC) for e in series
        )


def test_vtimezone_changes_at_the_local_time_before_each_change() -> None:
    from btassist.calendar.ical import vtimezone

    zone = icalendar.Timezone.from_ical(vtimezone(STOCKHOLM, 2026, 2027).to_ical())
    onsets = {
        (c.name, c.TZOFFSETFROM.seconds // 3600, c.TZOFFSETTO.seconds // 3600): [
            c.DTSTART,
            *(d for d, _ in c.rdates),
        ]
        for c in [*zone.standard, *zone.daylight]
    }
    # RFC 5545 §3.6.5: DTSTART is local time read with TZOFFSETFROM (01:00 UTC both times).
    assert onsets == {
        ("STANDARD", 1, 1): [datetime(2026, 1, 1)],
        ("DAYLIGHT", 1, 2): [datetime(2026, 3, 29, 2), datetime(2027, 3, 28, 2)],
        ("STANDARD", 2, 1): [datetime(2026, 10, 25, 3), datetime(2027, 10, 31, 3)],
    }
    # Read back as a tzinfo under a name icalendar cannot look up, it agrees with the tz
    # database through both changes of a year.
    renamed = vtimezone(STOCKHOLM, 2026, 2027).to_ical().replace(b"Europe/Stockholm", b"BT-Read")
    tz = icalendar.Timezone.from_ical(renamed).to_tz()
    instant = datetime(2027, 1, 1, tzinfo=UTC)
    while instant < datetime(2028, 1, 1, tzinfo=UTC):
        assert instant.astimezone(tz).utcoffset() == instant.astimezone(STOCKHOLM).utcoffset()
        instant += timedelta(minutes=30)


@pytest.mark.parametrize(
    "name",
    [
        "Europe/Stockholm",
        "America/New_York",
        "America/Santiago",  # southern summer
        "Australia/Lord_Howe",  # a half-hour change
        "Europe/Dublin",  # "negative" summer time: winter is the DST period in tzdata
    ],
)
def test_vtimezone_read_as_rfc_5545_says_matches_the_tz_database(name: str) -> None:
    from btassist.calendar.ical import vtimezone

    zone = ZoneInfo(name)
    written = vtimezone(zone, 2025, 2027)
    changes = sorted(
        ((onset - c.TZOFFSETFROM).replace(tzinfo=UTC), c.TZOFFSETTO)
        for c in [*written.standard, *written.daylight]
        for onset in (c.DTSTART, *(d for d, _ in c.rdates))
    )
    instant = datetime(2025, 1, 1, 12, tzinfo=UTC)
    while instant < datetime(2028, 1, 1, tzinfo=UTC):
        offset = [to for at, to in changes if at <= instant][-1]
        assert offset == instant.astimezone(zone).utcoffset(), instant
        instant += timedelta(minutes=30)


def test_icalendar_still_writes_spring_onsets_after_the_change() -> None:
    """`calendar.ical.vtimezone` moves these back by the jump (to 02:00). When this fails,
    icalendar writes onsets differently: change or drop that correction."""
    written = icalendar.Timezone.from_tzinfo(
        STOCKHOLM, first_date=date(2026, 1, 1), last_date=date(2027, 1, 1)
    )
    assert [(c.name, c.DTSTART) for c in written.subcomponents] == [
        ("STANDARD", datetime(2026, 1, 1)),
        ("DAYLIGHT", datetime(2026, 3, 29, 3)),  # RFC 5545: 02:00, read with TZOFFSETFROM
        ("STANDARD", datetime(2026, 10, 25, 3)),  # right: the clock goes back at 03:00 CEST
    ]


# Changes ------------------------------------------------------------------------------------


async def test_a_moved_session_keeps_its_uid_with_a_higher_sequence(
    bot: RunningBot, db: Database, http: aiohttp.ClientSession
) -> None:
    course = await add_course(db, "test-move", "Flyttad kurs")
    moved = await add_session(db, course, "test-move-1", local(2027, 2, 3, 9))
    before = await fetch(http, bot, "/calendar/course/test-move.ics")
    uid = f"session-{moved.id}@127.0.0.1"
    assert before.events()[uid]["SEQUENCE"] == 0

    async with db.session() as session:
        row = await session.get(CourseSession, moved.id)
        assert row is not None
        row.starts_at, row.ends_at = local(2027, 2, 4, 9), local(2027, 2, 4, 11)
        row.sequence += 1
        row.updated_at = datetime.now(UTC)
        session.add(row)

    after = await fetch(
        http, bot, "/calendar/course/test-move.ics", **{"If-None-Match": before.headers["ETag"]}
    )
    assert after.status == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    event = after.events()[uid]
    assert event["SEQUENCE"] == 1
    assert event["DTSTART"].dt == local(2027, 2, 4, 9)


async def test_cancelled_sessions_stay_as_cancelled_for_thirty_days(
    bot: RunningBot, db: Database, http: aiohttp.ClientSession
) -> None:
    course = await add_course(db, "test-cancel", "Inställd kurs")
    recent = await add_session(db, course, "test-cancel-recent", local(2027, 2, 3, 9))
    old = await add_session(db, course, "test-cancel-old", local(2027, 2, 10, 9))
    path = "/calendar/course/test-cancel.ics"
    before = await fetch(http, bot, path)
    now = datetime.now(UTC)
    async with db.session() as session:
        for row, when in ((recent, now - timedelta(days=29)), (old, now - timedelta(days=31))):
            loaded = await session.get(CourseSession, row.id)
            assert loaded is not None
            await cancel_session(UnitOfWork(session), course_session=loaded, now=when)
        listed = await session.get(Course, course.id)
        assert listed is not None
        listed.updated_at = now - timedelta(days=40)
        session.add(listed)

    after = await fetch(http, bot, path)
    events = after.events()
    cancelled = events[f"session-{recent.id}@127.0.0.1"]
    assert cancelled["STATUS"] == "CANCELLED"
    assert str(cancelled["SUMMARY"]) == "INSTÄLLT: Inställd kurs"
    assert f"session-{old.id}@127.0.0.1" not in events
    assert after.headers["ETag"] != before.headers["ETag"]
    # The old one left the feed a day ago: Last-Modified says so, not when it was cancelled.
    left = (now - timedelta(days=1)).replace(microsecond=0)
    last_modified = datetime.strptime(after.headers["Last-Modified"], "%a, %d %b %Y %H:%M:%S GMT")
    assert abs(last_modified.replace(tzinfo=UTC) - left) <= timedelta(seconds=1)

    # The single-session link keeps showing it, however long ago.
    single = await fetch(http, bot, f"/calendar/session/{old.id}.ics")
    assert single.events()[f"session-{old.id}@127.0.0.1"]["STATUS"] == "CANCELLED"


async def test_enrolled_doctor_sees_a_cancelled_session_as_cancelled(
    chat: ChatClient, bot: RunningBot, db: Database, http: aiohttp.ClientSession
) -> None:
    course = await add_course(db, "test-ekg", "EKG-tolkning")
    session_row = await add_session(db, course, "test-ekg-1", local(2027, 2, 3, 9))
    assert session_row.id is not None
    await enrol(
        db,
        zone=STOCKHOLM,
        doctor_id=await person_id(db, AMIR.email),
        session_id=session_row.id,
        now=datetime.now(UTC),
    )
    path = link_path(await chat.say(AMIR, "kalender"))
    async with db.session() as session:
        loaded = await session.get(CourseSession, session_row.id)
        assert loaded is not None
        await cancel_session(UnitOfWork(session), course_session=loaded, now=datetime.now(UTC))
    event = (await fetch(http, bot, path)).events()[f"session-{session_row.id}@127.0.0.1"]
    assert event["STATUS"] == "CANCELLED"
    assert "Tillfället är inställt" in str(event["DESCRIPTION"])


# HTTP ---------------------------------------------------------------------------------------


async def test_conditional_requests_head_and_gzip(
    bot: RunningBot, db: Database, http: aiohttp.ClientSession
) -> None:
    course = await add_course(db, "test-http", "HTTP-kurs")
    await add_session(db, course, "test-http-1", local(2027, 2, 3, 9))
    path = "/calendar/course/test-http.ics"
    first = await fetch(http, bot, path)
    assert first.status == 200
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)

    unchanged = await fetch(http, bot, path, **{"If-None-Match": etag})
    assert unchanged.status == 304
    assert unchanged.body == b""
    assert unchanged.headers["ETag"] == etag
    assert (await fetch(http, bot, path, **{"If-None-Match": f'"other", W/{etag}'})).status == 304
    assert (await fetch(http, bot, path, **{"If-Modified-Since": last_modified})).status == 304
    # If-None-Match decides when both are sent (RFC 9110).
    stale = await fetch(
        http, bot, path, **{"If-None-Match": '"x"', "If-Modified-Since": last_modified}
    )
    assert stale.status == 200

    head = await fetch(http, bot, path, method="HEAD")
    assert head.status == 200
    assert head.body == b""
    assert head.headers["Content-Length"] == str(len(first.body))
    assert head.headers["ETag"] == etag

    zipped = await fetch(http, bot, path, **{"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.body) == first.body
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert (await fetch(http, bot, path, **{"If-None-Match": zipped.headers["ETag"]})).status == 304


async def test_an_unchanged_feed_is_answered_without_building_it(
    bot: RunningBot, db: Database, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    course = await add_course(db, "test-cache", "Cachad kurs")
    await add_session(db, course, "test-cache-1", local(2027, 2, 3, 9))
    path = "/calendar/course/test-cache.ics"
    first = await fetch(http, bot, path)

    def no_building(*args: object) -> bytes:
        raise AssertionError("the feed was built again")

    monkeypatch.setattr("btassist.calendar.http.render", no_building)
    assert (await fetch(http, bot, path, **{"If-None-Match": first.headers["ETag"]})).status == 304
    assert (await fetch(http, bot, path)).body == first.body


async def test_clients_asking_at_once_share_one_build(
    bot: RunningBot, db: Database, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    course = await add_course(db, "test-herd", "Många klienter")
    await add_session(db, course, "test-herd-1", local(2027, 2, 3, 9))
    builds = []
    real_render = http_module.render

    def counting_render(*args: Any) -> bytes:
        builds.append(1)
        return real_render(*args)

    monkeypatch.setattr("btassist.calendar.http.render", counting_render)
    answers = await asyncio.gather(
        *(fetch(http, bot, "/calendar/course/test-herd.ics") for _ in range(10))
    )
    assert {answer.status for answer in answers} == {200}
    assert len({answer.body for answer in answers}) == 1
    assert len(builds) == 1


async def test_the_confirmation_cards_session_link_and_unknown_feeds(
    bot: RunningBot, db: Database, http: aiohttp.ClientSession
) -> None:
    course = await add_course(db, "test-one", "En kurs", title_en="One course")
    session = await add_session(db, course, "test-one-1", local(2027, 2, 3, 9))
    single = await fetch(http, bot, f"/calendar/session/{session.id}.ics?lang=en")
    assert single.status == 200
    assert "attachment" in single.headers["Content-Disposition"]
    (event,) = single.events().values()
    assert str(event["SUMMARY"]) == "One course"
    swedish = await fetch(
        http, bot, f"/calendar/session/{session.id}.ics", **{"Accept-Language": "sv-SE,sv;q=0.9"}
    )
    assert str(next(iter(swedish.events().values()))["SUMMARY"]) == "En kurs"

    nothing = await fetch(http, bot, "/calendar/" + "A" * 48 + ".ics")
    for path in (
        "/calendar/session/999999.ics",
        "/calendar/session/abc.ics",
        "/calendar/course/no-such-course.ics",
        "/calendar/region/atlantis.ics",
    ):
        answer = await fetch(http, bot, path)
        assert answer.status == 404, path
        assert answer.body == nothing.body


# Pieces -------------------------------------------------------------------------------------


def test_the_cache_keeps_the_newest_body_of_each_feed_within_its_byte_budget() -> None:
    from btassist.calendar.http import CachedFeed, FeedCache

    def body(etag: str, size: int) -> CachedFeed:
        return CachedFeed(etag=etag, body=b"x" * size, gzipped=b"")

    cache = FeedCache(max_bytes=100)
    cache.put(("a",), body("a1", 40))
    cache.put(("b",), body("b1", 40))
    assert cache.get(("a",), "a1") is not None  # now the most recently used
    assert cache.get(("a",), "a0") is None  # another version is not served
    cache.put(("c",), body("c1", 40))  # over budget: "b" goes, the least recently used
    assert [cache.get((k,), f"{k}1") is not None for k in "abc"] == [True, False, True]
    cache.put(("a",), body("a2", 101))  # too big to keep, and the old version is stale
    assert cache.get(("a",), "a1") is None
    assert cache.get(("a",), "a2") is None
    cache.clear()
    assert cache.get(("c",), "c1") is None


def test_render_writes_exactly_what_icalendar_writes() -> None:
    from btassist.calendar.events import CalendarHeader, EventStatus, FeedEvent
    from btassist.calendar.ical import calendar_object, event_component, render

    stamp = datetime(2026, 11, 1, 12, tzinfo=UTC)
    events = [
        FeedEvent(
            uid="a@x",
            summary="Kurs; med, tecken och en lång rad " + "x" * 80,
            start=local(2027, 3, 17, 13),
            end=local(2027, 3, 17, 15),
            modified=stamp,
            created=stamp,
            sequence=2,
            status=EventStatus.tentative,
            description="Rad ett\nRad två",
            location="Sal 3",
            url="https://example.org/m",
            weekly_until=local(2027, 4, 7, 13),
            skipped=(local(2027, 3, 31, 13),),
            categories=("Kurs",),
        ),
        FeedEvent(
            uid="b@x",
            summary="Placering",
            start=date(2027, 1, 1),
            end=date(2027, 2, 1),
            modified=stamp,
            busy=False,
        ),
    ]
    header = CalendarHeader(name="BT, mina; kurser", description="Beskrivning")
    assert render(header, events, STOCKHOLM) == calendar_object(header, events, STOCKHOLM).to_ical()
    # The property values are built directly; they are what `Event.add` infers.
    for event in events:
        assert event_component(event, STOCKHOLM).to_ical() == _added(event).to_ical()


def _added(event: Any) -> icalendar.Event:
    """The VEVENT written with `Event.add`, which infers every property's type."""
    component = icalendar.Event()
    component.add("uid", event.uid)
    component.add("dtstamp", event.modified)
    if isinstance(event.start, datetime):
        component.add("dtstart", event.start.astimezone(STOCKHOLM))
        component.add("dtend", event.end.astimezone(STOCKHOLM))
    else:
        component.add("dtstart", event.start)
        component.add("dtend", event.end)
    if event.weekly_until is not None:
        component.add("rrule", {"freq": "weekly", "until": event.weekly_until.astimezone(UTC)})
        if event.skipped:
            component.add("exdate", [day.astimezone(STOCKHOLM) for day in event.skipped])
    component.add("sequence", event.sequence)
    component.add("status", event.status.value)
    component.add("summary", event.summary)
    for name, value in (
        ("description", event.description),
        ("location", event.location),
        ("url", event.url),
        ("categories", list(event.categories)),
        ("created", event.created),
    ):
        if value:
            component.add(name, value)
    component.add("transp", "OPAQUE" if event.busy else "TRANSPARENT")
    component.add("last-modified", event.modified)
    return component


async def test_access_logs_never_show_a_feed_secret(
    db_url: str, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    app = app_factory(local_settings(db_url))
    secret = "S" * 48
    access = logging.getLogger("aiohttp.access")
    async with serving(app, access_log_class=FeedAccessLogger, access_log=access) as url:
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            async with http.get(f"{url}/calendar/{secret}.ics") as response:
                assert response.status == 404
            async with http.get(f"{url}/calendar/region/halland.ics") as response:
                assert response.status == 200
    assert secret not in caplog.text
    assert '"GET /calendar/redacted.ics HTTP/1.1" 404' in caplog.text
    assert '"GET /calendar/region/halland.ics HTTP/1.1" 200' in caplog.text


def test_which_paths_are_secret() -> None:
    assert redact_path("/calendar/" + "A" * 48 + ".ics") == "/calendar/redacted.ics"
    assert redact_path("/calendar/anything.ics") == "/calendar/redacted.ics"
    assert redact_path("/calendar/region/halland.ics") == "/calendar/region/halland.ics"
    assert redact_path("/calendar/session/12.ics") == "/calendar/session/12.ics"
    assert redact_path("/api/messages") == "/api/messages"


async def test_kind_of_course_is_a_category(
    bot: RunningBot, db: Database, http: aiohttp.ClientSession
) -> None:
    course = await add_course(db, "test-sem", "Seminarium om etik", kind=CourseKind.seminarium)
    await add_session(db, course, "test-sem-1", local(2027, 2, 3, 9))
    (event,) = (await fetch(http, bot, "/calendar/course/test-sem.ics")).events().values()
    assert event.categories == ["Seminarium"]
