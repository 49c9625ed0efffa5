"""Reminders delivered end to end: the app's own sweep (its clock, its policies) queues them, the
outbox worker sends them through the Bot Connector as cards in the recipient's language, and the
buttons on them act in place through the real /api/messages endpoint."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlmodel import col, select

from btassist.app import DATABASE, POLICIES, RUNTIME, SWEEP, WATCHER
from btassist.assessments.models import ItemKind, ItemStatus, PlanItem
from btassist.assessments.policy import packaged_policies
from btassist.assessments.sync import sync_plans
from btassist.courses.enrolment import enrol
from btassist.courses.importer import SESSION_COLUMNS, import_sessions, parse_sessions_text
from btassist.courses.models import CourseSession
from btassist.db.engine import Database
from btassist.localchat.client import Button, ChatUser, card_buttons, cards_of
from btassist.observability.metrics import METRICS
from btassist.outbox.models import OutboxMessage, OutboxStatus
from btassist.outbox.notices import NoticeKind
from btassist.reminders.kinds import REMINDER_KINDS
from btassist.reminders.scheduling import add_reminder_jobs
from btassist.reminders.sweep import preview
from btassist.roster.files import PEOPLE_COLUMNS, parse_roster_text
from btassist.roster.importer import import_roster
from btassist.roster.models import Person
from tests.support.bot import RunningBot, local_settings, running_bot
from tests.support.connector import FakeConnector
from tests.support.plans import done_on_time

ZONE = ZoneInfo("Europe/Stockholm")
DOC = ChatUser("Dina Doktor", "doc@h.example.org", "6d1c0f6e-0000-4000-8000-000000000901")
HH = ChatUser("Hanna Huvud", "hh@h.example.org", "6d1c0f6e-0000-4000-8000-000000000902")
HL = ChatUser("Hugo Handledare", "hl@h.example.org", "6d1c0f6e-0000-4000-8000-000000000903")
SR = ChatUser("Siv Studierektor", "sr@h.example.org", "6d1c0f6e-0000-4000-8000-000000000904")
KEN = ChatUser(
    "Ken Kronoberg", "ken@k.example.org", "6d1c0f6e-0000-4000-8000-000000000905", locale="en-US"
)
HK = ChatUser("Hedda Kronoberg", "hk@k.example.org", "6d1c0f6e-0000-4000-8000-000000000906")
USERS = (DOC, HH, HL, SR, KEN, HK)
PEOPLE = (
    ",".join(PEOPLE_COLUMNS)
    + "\n"
    + "\n".join(
        [
            f"{HH.email},{HH.name},supervisor,halland,{HH.aad_object_id},sv,,,,",
            f"{HL.email},{HL.name},supervisor,halland,{HL.aad_object_id},sv,,,,",
            f"{SR.email},{SR.name},studierektor,halland,{SR.aad_object_id},sv,,,,",
            f"{DOC.email},{DOC.name},doctor,halland,{DOC.aad_object_id},sv,block,"
            f"2026-09-01,2027-08-31,{HH.email}",
            f"{HK.email},{HK.name},supervisor,kronoberg,{HK.aad_object_id},,,,,",
            f"{KEN.email},{KEN.name},doctor,kronoberg,{KEN.aad_object_id},en,block,"
            f"2026-08-24,2027-08-20,{HK.email}",
        ]
    )
)
PLACEMENTS = f"""doctor_email,kind,unit,start,end,supervisor_email
{DOC.email},psykiatri,Psykiatri Varberg,2026-09-01,2026-11-30,{HL.email}
{DOC.email},akut,Akutkliniken Varberg,2026-12-01,2027-04-15,{HL.email}
{DOC.email},primarvard,VC Söder,2027-04-16,2027-08-31,{HH.email}
{KEN.email},akut,Internmedicin Växjö,2026-09-21,2026-11-20,{HK.email}
"""
SESSION = "halland-stas,stas-1,halland,2026-09-16 08:30,2026-09-16 16:00,Varberg,,,,,,"
MOVED = "halland-stas,stas-1,halland,2026-09-17 08:30,2026-09-17 16:00,Halmstad,,,,,,"
NEW = "halland-forsakringsmedicin,fm-1,halland,2026-10-20 08:30,2026-10-21 16:30,Halmstad,,,,,,"


def local(day: date, hour: int = 8, minute: int = 30) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE).astimezone(UTC)


class Clock:
    """The app's injected clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Reminders:
    """A running bot with the roster above, everyone installed, and its clock."""

    bot: RunningBot
    connector: FakeConnector
    clock: Clock
    ids: dict[str, int]

    @property
    def database(self) -> Database:
        return self.bot.app[DATABASE]

    async def sweep_and_deliver(self, day: date) -> int:
        """The app's sweep at 08:30 on `day`, then delivery; how many notices it queued."""
        self.clock.now = local(day)
        result = await self.bot.app[SWEEP]()
        await self.bot.app[RUNTIME].worker.deliver_due()
        return result.queued

    async def deliver(self) -> None:
        await self.bot.app[RUNTIME].worker.deliver_due()

    async def item(self, doctor: ChatUser, key: str) -> PlanItem:
        async with self.database.session() as session:
            query = select(PlanItem).where(
                col(PlanItem.doctor_id) == self.ids[doctor.email], col(PlanItem.key) == key
            )
            found = (await session.exec(query)).one()
        return found

    async def done(
        self, doctor: ChatUser, until: date, *, keep: frozenset[str] = frozenset()
    ) -> None:
        """The doctor did everything due up to `until` on its day, except the `keep` items."""
        await done_on_time(
            self.database,
            until,
            doctor_id=self.ids[doctor.email],
            unless=lambda item: item.key in keep,
        )

    async def outbox(self, kind: NoticeKind | None = None) -> list[OutboxMessage]:
        async with self.database.session() as session:
            query = select(OutboxMessage).order_by(col(OutboxMessage.id))
            if kind is not None:
                query = query.where(col(OutboxMessage.kind) == kind.value)
            return list((await session.exec(query)).all())

    def cards_to(self, user: ChatUser, after: int = 0) -> list[tuple[str, dict[str, Any]]]:
        """(activity id, card) of every card sent to the user after connector seq `after`."""
        return [
            (str(d.activity_id), card)
            for d in self.connector.deliveries(user.conversation_id, after=after)
            if d.is_new
            for card in cards_of(d.activity)
        ]


@pytest.fixture
async def reminders(db_url: str, connector: FakeConnector) -> AsyncIterator[Reminders]:
    clock = Clock(local(date(2026, 8, 3), 12))  # before BT: nothing is due yet
    async with running_bot(local_settings(db_url), connector, demo=False, clock=clock) as bot:
        database = bot.app[DATABASE]
        for text in (PEOPLE, PLACEMENTS):
            result = await import_roster(database, parse_roster_text(text))
            assert result.ok, result.problems
        await sync_plans(database, now=clock.now)
        for user in USERS:
            await bot.chat.install(user)
        async with database.session() as session:
            ids = {p.email: p.id or 0 for p in (await session.exec(select(Person))).all()}
        yield Reminders(bot, connector, clock, ids)


def buttons(card: dict[str, Any]) -> list[Button]:
    """Every button of a card, as Teams shows them (rows in the body, then its own actions)."""
    return card_buttons(card)


def button(card: dict[str, Any], title: str, **data: Any) -> Button:
    """The button titled `title` whose data has `data`'s values."""
    for found in buttons(card):
        if found.title == title and all(found.data.get(k) == v for k, v in data.items()):
            return found
    titles = [(b.title, b.data) for b in buttons(card)]
    raise LookupError(f"no button {title!r} with {data}; the card has {titles}")


def filled(found: Button, **inputs: str) -> Button:
    """The button as Teams sends it: the card's input values merged into its data."""
    return replace(found, data={**found.data, **inputs})


# --- every kind, delivered ----------------------------------------------------------------------


async def test_every_reminder_kind_reaches_its_recipient_as_a_card(reminders: Reminders) -> None:
    r = reminders
    database = r.database
    sessions = ",".join(SESSION_COLUMNS) + "\n" + SESSION
    imported = await import_sessions(
        database, parse_sessions_text(sessions, name="s.csv"), zone=ZONE, now=r.clock.now
    )
    assert imported.ok, imported.problems
    async with database.session() as session:
        stas = (await session.exec(select(CourseSession))).one()
    await enrol(
        database, doctor_id=r.ids[DOC.email], session_id=stas.id or 0, now=r.clock.now, zone=ZONE
    )
    await r.sweep_and_deliver(date(2026, 8, 24))  # Ken's BT starts
    await r.sweep_and_deliver(date(2026, 8, 31))  # Ken's Monday summary: 4 h of teaching
    await r.sweep_and_deliver(date(2026, 9, 1))  # Dina's BT starts: to her and Hanna
    await r.sweep_and_deliver(date(2026, 9, 8))  # IUP and contract due in a week
    await r.sweep_and_deliver(date(2026, 9, 14))  # this week: IUP, contract
    await r.sweep_and_deliver(date(2026, 9, 15))  # due today; StAS tomorrow
    await r.done(DOC, date(2026, 9, 15))
    r.clock.now = local(date(2026, 9, 15), 10)
    moved = ",".join(SESSION_COLUMNS) + "\n" + MOVED + "\n" + NEW
    imported = await import_sessions(
        database, parse_sessions_text(moved, name="s.csv"), zone=ZONE, now=r.clock.now
    )
    assert imported.ok, imported.problems
    await r.deliver()  # StAS moved (Dina holds a seat); försäkringsmedicin is new
    await r.done(DOC, date(2026, 10, 15))
    await r.sweep_and_deliver(date(2026, 10, 21))  # the 16 October assessment is late
    await r.sweep_and_deliver(date(2026, 10, 30))  # two weeks late: the studierektor hears
    await r.sweep_and_deliver(date(2026, 11, 16))  # the hand-over meeting in two weeks

    sent = await r.outbox()
    reminder_rows = [row for row in sent if NoticeKind(row.kind) in REMINDER_KINDS]
    assert {NoticeKind(row.kind) for row in reminder_rows} == set(REMINDER_KINDS)
    assert {row.status for row in reminder_rows} == {OutboxStatus.sent}, [
        (row.kind, row.status, row.last_error) for row in reminder_rows
    ]
    ken = "\n".join(text for _, card in r.cards_to(KEN) for text in [str(card)])
    assert "Scheduled teaching: about 4 hours." in ken  # in English, from Kronoberg's policy
    assert "Welcome to BT!" in ken
    dina = [card for _, card in r.cards_to(DOC)]
    texts = "\n".join(str(card) for card in dina)
    assert "Välkommen till BT!" in texts
    stas = "StAS – Strukturerat omhändertagande av akuta sjukdomstillstånd"
    assert f"Påminnelse: {stas} börjar ons 2026-09-16 08:30–16:00, Varberg." in texts
    assert "Lägg till i kalender" in texts
    assert f"{stas} har ändrats: nu tor 2026-09-17 08:30–16:00, Halmstad" in texts
    assert "Nu finns det nya tillfällen för Försäkringsmedicin AT/BT" in texts
    assert "Överrapporteringsmöte: din placering Psykiatri Varberg slutar" in texts
    assert "Hugo Handledare" in texts
    assert "Hanna Huvud" in texts
    assert "Siv Studierektor" in texts
    nudges = "\n".join(str(card) for _, card in r.cards_to(HL))
    assert "Det här är försenat hos dina BT-läkare:" in nudges
    assert "Markera som genomförd" in nudges
    assert "Nytt datum" in nudges
    escalation = "\n".join(str(card) for _, card in r.cards_to(SR))
    assert "Det här har varit försenat i mer än två veckor:" in escalation
    swept = [row for row in reminder_rows if row.kind not in {"session_moved", "session_new"}]
    metrics = r.bot.app[METRICS].exposition().decode()
    assert f"btassist_reminders_queued_total {float(len(swept))}" in metrics


# --- the supervisor's nudge, in place -----------------------------------------------------------


async def test_a_supervisor_marks_the_overdue_item_done_on_the_nudge_card(
    reminders: Reminders,
) -> None:
    r, chat = reminders, reminders.bot.chat
    await r.done(DOC, date(2026, 10, 20), keep=frozenset({"assessment:1:1"}))
    late = await r.item(DOC, "assessment:1:1")
    assert late.due == date(2026, 10, 16)
    r.clock.now = local(date(2026, 10, 21), 9)
    plan = await chat.say(DOC, "bedömningar")
    assert "Din BT-plan" in plan.text
    assert "Bedömning 1 (Psykiatri Varberg) – **försenad** (skulle ha gjorts fre 2026-10-16)" in (
        plan.text
    )
    assert "Nytt datum" not in [b.title for b in buttons(plan.cards[0])]

    mark = r.connector.last_seq
    await r.sweep_and_deliver(date(2026, 10, 21))
    nudged = {row.person_id for row in await r.outbox(NoticeKind.supervisor_overdue)}
    assert {r.ids[HL.email], r.ids[HH.email]} <= nudged
    [(card_id, nudge)] = r.cards_to(HL, after=mark)
    [(_, hanna_card)] = r.cards_to(HH, after=mark)
    assert "**Dina Doktor**: Bedömning 1 (Psykiatri Varberg), skulle ha gjorts fre 2026-10-16" in (
        str(nudge)
    )
    assert [r.cards_to(DOC, after=mark)] == [[]]
    renudge = await preview(r.database, now=local(date(2026, 10, 28)), zone=ZONE)
    again = {line.recipient for line in renudge if line.kind is NoticeKind.supervisor_overdue}
    assert {HL.email, HH.email} <= again  # a week on, they would hear of it again

    form = await chat.press(
        HL, button(nudge, "Markera som genomförd", item_id=late.id), card_activity_id=card_id
    )
    [shown] = form.invoke_cards
    assert {e.get("id") for e in shown["body"]} >= {"on", "instrument", "assessor"}
    save = filled(
        button(shown, "Spara"), on="2026-10-20", instrument="minicex", assessor="Hugo Handledare"
    )
    saved = await chat.press(HL, save, card_activity_id=card_id)
    [updated] = saved.invoke_cards
    assert "✓ Bedömning 1 (Psykiatri Varberg) är markerad som genomförd tis 2026-10-20." in (
        saved.text
    )
    assert "Inget mer är försenat." in saved.text
    assert not list(buttons(updated))
    done = await r.item(DOC, "assessment:1:1")
    assert (done.status, done.done_on, done.instrument, done.done_by) == (
        ItemStatus.done,
        date(2026, 10, 20),
        "Mini-CEX",
        r.ids[HL.email],
    )

    # Hanna's card was sent before: her click finds it done and says so.
    stale = await chat.press(HH, button(hanna_card, "Markera som genomförd", item_id=late.id))
    assert "redan markerad som genomförd tis 2026-10-20" in stale.text

    # The next sweeps nudge nobody about it.
    before = await r.outbox(NoticeKind.supervisor_overdue)
    for day in (date(2026, 10, 22), date(2026, 10, 28)):
        await r.sweep_and_deliver(day)
    after = await r.outbox(NoticeKind.supervisor_overdue)
    assert {row.person_id for row in after[len(before) :]} & {r.ids[HL.email], r.ids[HH.email]} == (
        set()
    )


async def test_a_new_date_from_mina_bt_lakare_and_who_may_not(reminders: Reminders) -> None:
    r, chat = reminders, reminders.bot.chat
    await r.done(DOC, date(2026, 10, 20), keep=frozenset({"assessment:1:1"}))
    late = await r.item(DOC, "assessment:1:1")
    r.clock.now = local(date(2026, 10, 21), 9)
    mine = await chat.say(HL, "mina BT-läkare")
    assert "Dina Doktor – handledare, nu på Psykiatri (Psykiatri Varberg)" in mine.text
    [listing] = mine.cards
    form = await chat.press(
        HL,
        button(listing, "Nytt datum", item_id=late.id),
        card_activity_id=mine.card_activity_id,
    )
    [date_form] = form.invoke_cards
    assert "Nytt datum för Bedömning 1 (Psykiatri Varberg) (nu fre 2026-10-16)" in form.text
    too_early = await chat.press(HL, filled(button(date_form, "Spara"), due="2026-10-01"))
    assert "Det nya datumet kan inte ligga före i dag." in too_early.text
    moved = await chat.press(HL, filled(button(date_form, "Spara"), due="2026-10-30"))
    assert "✓ Bedömning 1 (Psykiatri Varberg) har nytt datum: fre 2026-10-30." in moved.text
    assert "Inget försenat." in moved.text
    assert (await r.item(DOC, "assessment:1:1")).due == date(2026, 10, 30)

    # The doctor gets no "Nytt datum", and a forged one is turned down politely.
    forged = await chat.post(
        chat.activity(DOC, value={"verb": "item_new_date", "item_id": late.id})
    )
    assert "Ett nytt datum sätts av handledaren" in forged.text
    # Someone else's item: not even the form.
    other = await r.item(KEN, "iup")
    refused = await chat.post(chat.activity(HL, value={"verb": "item_done", "item_id": other.id}))
    assert "Det här kan bara BT-läkaren, handledarna och regionens koordinatorer ändra." in (
        refused.text
    )
    assert (await r.item(KEN, "iup")).status is ItemStatus.open
    # The doctor marks their own item done from "bedömningar"; a date ahead is refused.
    plan = await chat.say(DOC, "bedömningar")
    [plan_card] = plan.cards
    mark = button(plan_card, "Markera som genomförd", item_id=late.id)
    future = await chat.post(
        chat.activity(DOC, value={**mark.data, "save": True, "on": "2026-11-02"})
    )
    assert "Datumet kan inte ligga i framtiden." in future.text
    saved = await chat.post(chat.activity(DOC, value={**mark.data, "save": True}))
    assert "är markerad som genomförd ons 2026-10-21" in saved.text
    assert "Din BT-plan" in saved.text  # the plan, redrawn


# --- pausing ------------------------------------------------------------------------------------


async def test_pausing_and_resuming_reminders_in_the_chat(reminders: Reminders) -> None:
    r, chat = reminders, reminders.bot.chat
    await r.done(DOC, date(2026, 11, 20))
    r.clock.now = local(date(2026, 11, 20), 15)
    nothing = await chat.say(DOC, "återuppta påminnelser")
    assert "Du har inga pausade påminnelser." in nothing.text
    asked = await chat.say(DOC, "pausa påminnelser")
    assert "Vilka påminnelser vill du pausa?" in asked.text
    [choices] = asked.cards
    titles = [b.title for b in buttons(choices)]
    assert titles[-1] == "Alla påminnelser"
    assert "Veckobrevet ”Den här veckan”" in titles
    assert all(len(s["actions"]) <= 6 for s in choices["body"] if s["type"] == "ActionSet")
    paused = await chat.press(DOC, button(choices, "Alla påminnelser"))
    assert "Okej, jag skickar inga påminnelser tills du skriver ”återuppta påminnelser”." in (
        paused.text
    )
    mark = r.connector.last_seq
    await r.sweep_and_deliver(date(2026, 11, 23))  # Bedömning 2 and the meeting are near
    assert r.cards_to(DOC, after=mark) == []
    assert r.cards_to(HL, after=mark)  # the others still hear of the meeting

    asked = await chat.say(DOC, "resume reminders")  # English words work in Swedish too
    [choices] = asked.cards
    resumed = await chat.press(DOC, button(choices, "Alla"))
    assert "Okej, du får påminnelser igen." in resumed.text
    await r.sweep_and_deliver(date(2026, 11, 24))  # catches up on what is still relevant
    got = "\n".join(str(card) for _, card in r.cards_to(DOC, after=mark))
    assert "Påminnelse: Bedömning 2 (Psykiatri Varberg) ska vara gjord senast mån 2026-11-30." in (
        got
    )

    # One kind: the weekly summary, paused and then resumed on its own.
    asked = await chat.say(DOC, "pausa påminnelser")
    [choices] = asked.cards
    one = await chat.press(DOC, button(choices, "Veckobrevet ”Den här veckan”"))
    assert "Okej, jag skickar inga veckobrevet ”Den här veckan”" in one.text
    asked = await chat.say(DOC, "återuppta")
    assert [b.title for b in buttons(asked.cards[0])] == ["Veckobrevet ”Den här veckan”", "Alla"]


# --- the policies in use ------------------------------------------------------------------------


async def test_an_edited_policy_moves_the_plans_and_the_chat_follows(
    db_url: str, connector: FakeConnector, tmp_path: Path
) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(packaged_policies(), policies)  # type: ignore[arg-type]
    clock = Clock(local(date(2026, 8, 3), 12))
    settings = local_settings(db_url, policy_dir=policies, faq_reload_interval=0)
    async with running_bot(settings, connector, demo=False, clock=clock) as bot:
        database = bot.app[DATABASE]
        for text in (PEOPLE, PLACEMENTS):
            assert (await import_roster(database, parse_roster_text(text))).ok
        await sync_plans(database, policies=bot.app[POLICIES].current, now=clock.now)
        halland = policies / "halland.yaml"
        edited = halland.read_text("utf-8").replace(
            "name: {sv: Bedömning, en: Assessment}", "name: {sv: Kompetensbedömning, en: Review}"
        )
        halland.write_text(edited.replace("within_days: 14", "within_days: 21"), "utf-8")
        await bot.app[WATCHER].check()
        async with database.session() as session:
            query = select(PlanItem).where(col(PlanItem.kind) == ItemKind.iup)
            dues = {item.due for item in (await session.exec(query)).all()}
        assert date(2026, 9, 22) in dues  # Dina's IUP: 1 September + 21 days
        await bot.chat.install(DOC)
        plan = await bot.chat.say(DOC, "bedömningar")
        assert "Kompetensbedömning 1 (Psykiatri Varberg)" in plan.text
        halland.write_text("region: halland\nreviewed: [", "utf-8")  # a typo keeps the old
        await bot.app[WATCHER].check()
        assert bot.app[POLICIES].current["halland"].iup.within_days == 21


async def test_a_sweep_cut_short_by_shutdown_is_no_error(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def endless_sweep() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()

    scheduler = AsyncIOScheduler(timezone=ZONE)
    add_reminder_jobs(scheduler, run_sweep=endless_sweep, zone=ZONE)
    scheduler.start()
    await started.wait()  # the sweep at start is under way
    scheduler.shutdown(wait=False)
    await cancelled.wait()
    for _ in range(3):  # the job's task finishes after the cancellation
        await asyncio.sleep(0)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert "reminder sweep stopped by shutdown" in caplog.text
