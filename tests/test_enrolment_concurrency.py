"""Capacity is exact under concurrency: 200 doctors click "Anmäl" at once for 20 seats."""

from __future__ import annotations

import asyncio
import re

from sqlmodel import col, select

from btassist.app import DATABASE
from btassist.courses.models import Enrolment, EnrolmentStatus
from btassist.localchat.client import ChatUser
from btassist.roster.models import Person, PersonRole, Role
from tests.support.bot import RunningBot
from tests.support.courses import add_course, add_session

DOCTORS = 200
SEATS = 20


async def _cohort(bot: RunningBot) -> list[ChatUser]:
    users = [
        ChatUser(
            f"Läkare {n:03d}",
            f"lakare{n:03d}@halland.example.org",
            f"00000000-0000-4000-8000-{n:012d}",
        )
        for n in range(DOCTORS)
    ]
    async with bot.app[DATABASE].session() as session:
        people = [
            Person(email=u.email, name=u.name, aad_object_id=u.aad_object_id, region_code="halland")
            for u in users
        ]
        session.add_all(people)
        await session.flush()
        session.add_all(PersonRole(person_id=p.id, role=Role.doctor) for p in people)  # type: ignore[arg-type]
    return users


async def test_200_concurrent_enrolments_fill_20_seats_exactly(bot: RunningBot) -> None:
    users = await _cohort(bot)
    database = bot.app[DATABASE]
    course = await add_course(database, "test-rush", "Försäkringsmedicin AT/BT")
    session = await add_session(database, course, key="fm-rush", capacity=SEATS)

    anmal = {"verb": "enrol", "session_id": session.id}  # the "Anmäl" button's Action.Execute
    replies = await asyncio.gather(
        *(
            bot.chat.post(
                bot.chat.activity(
                    user,
                    type="invoke",
                    name="adaptiveCard/action",
                    value={"action": {"type": "Action.Execute", "verb": "enrol", "data": anmal}},
                )
            )
            for user in users
        )
    )

    assert all(r.status < 400 for r in replies)
    texts = [r.text for r in replies]
    assert not [t for t in texts if "Felkod" in t or "Error code" in t]
    assert sum("Du är anmäld till Försäkringsmedicin AT/BT" in t for t in texts) == SEATS
    told = {}
    for user, text in zip(users, texts, strict=True):
        match = re.search(r"väntelistan till .* \(plats (\d+)\)", text)
        if match:
            told[user.email] = int(match.group(1))
    assert sorted(told.values()) == list(range(1, DOCTORS - SEATS + 1))

    async with database.session() as db:
        rows = (
            await db.exec(
                select(Enrolment, Person.email)
                .join(Person, col(Person.id) == Enrolment.doctor_id)
                .where(Enrolment.session_id == session.id)
                .order_by(col(Enrolment.id))
            )
        ).all()
    statuses = [enrolment.status for enrolment, _ in rows]
    assert statuses.count(EnrolmentStatus.enrolled) == SEATS
    assert statuses.count(EnrolmentStatus.waitlisted) == DOCTORS - SEATS
    waitlist = [
        email for enrolment, email in rows if enrolment.status is EnrolmentStatus.waitlisted
    ]
    assert [told[email] for email in waitlist] == list(range(1, DOCTORS - SEATS + 1))
