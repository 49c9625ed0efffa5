"""The daily sweep: what is due today, written into the outbox once, at 08:30 on working days.

A sweep decides for the local day of `now` (only on working days between 08:30 and 17:00; at any
other time it does nothing) and writes each reminder under its unique key, in one transaction.
Running it twice, or on two processes, queues nothing twice; a process killed mid-sweep wrote
nothing, and the next sweep writes it all.

Catching up: every kind has a window of days in which it is still worth sending, and a sweep
sends whatever falls in today's window and was not sent before (the key says so). After
downtime the first sweep therefore sends what is still relevant and nothing stale:

- an item due within a week: from the working day a week before until the day before;
- an item due today: on its day (on the working day before, for a date on a weekend/holiday);
- an end-of-placement meeting: proposed two weeks before, until the day before;
- a course session: on the working day before it, until the day before;
- "Den här veckan": the week's first working day, until Wednesday;
- BT start: in the first two weeks of BT;
- supervisors: items at least 3 working days overdue, repeated every 5 working days, and not
  after 6 weeks; the studierektor once, after 14 days.

Every query reads a whole category at once, so the number of statements does not grow with the
number of doctors (see bench/sweep.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, func, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from btassist.assessments.models import ItemKind, ItemStatus, PlanItem
from btassist.assessments.policy import Attendee, RegionPolicies
from btassist.assessments.sync import shipped_policies, transaction_lock
from btassist.common.workdays import WorkingDays
from btassist.courses.models import (
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    Recurrence,
    SessionSkip,
    SessionStatus,
)
from btassist.courses.schedule import occurrences
from btassist.db.engine import Database
from btassist.outbox.models import OutboxMessage
from btassist.outbox.notices import NoticeKind, Params
from btassist.outbox.queue import already_queued
from btassist.outbox.unit_of_work import unit_of_work
from btassist.reminders.kinds import (
    REMINDER_KINDS,
    BTStart,
    DigestSession,
    ItemDue,
    MeetingProposal,
    Overdue,
    OverdueLine,
    SessionTomorrow,
    WeeklyDigest,
)
from btassist.reminders.outbox import Reminder
from btassist.reminders.pauses import Pauses, all_pauses, is_paused
from btassist.reminders.sql import wide_select
from btassist.roster.models import BTProgramme, Person, PersonRole, Placement, Role

SWEEP_LOCK_KEY = 0x6274_7377
REMINDER_VALUES = [kind.value for kind in REMINDER_KINDS]
MEETING_KINDS = frozenset({ItemKind.end_meeting})
START_KINDS = (ItemKind.iup, ItemKind.supervision_contract)


@dataclass(frozen=True)
class NudgeRules:
    """How far ahead, how often and for how long reminders and nudges go out (days)."""

    soon_days: int = 7  # "due soon" a week ahead
    meeting_notice_days: int = 14  # end-of-placement meetings proposed two weeks ahead
    bt_start_days: int = 14  # the start notice is relevant in the first two weeks
    nudge_after_working_days: int = 3  # supervisors hear of an item this late
    nudge_every_working_days: int = 5  # … and again a week later while it stays open
    escalate_after_days: int = 14  # the studierektor hears once, two weeks late
    stop_after_days: int = 42  # nobody is nudged about an item six weeks late any more


@dataclass(frozen=True)
class Window:
    """The dates a sweep on `day` looks at."""

    day: date
    next_working_day: date
    soon_until: date
    meetings_until: date
    overdue_until: date  # due on or before: at least `nudge_after_working_days` late
    nudged_until: date  # nudged on or before: due for another nudge
    escalate_until: date  # due on or before: tell the studierektor
    stop_before: date  # due before: too old to nudge about
    week: tuple[date, date] | None  # Monday and Sunday when the digest goes out today

    @classmethod
    def of(cls, day: date, days: WorkingDays, rules: NudgeRules) -> Window:
        """The windows of a sweep on the working day `day`."""
        after = days.after(day)
        monday = day - timedelta(days=day.weekday())
        first = days.on_or_after(monday)
        latest = max(first, monday + timedelta(days=2))  # catch up until Wednesday
        one = timedelta(days=1)
        return cls(
            day=day,
            next_working_day=after,
            soon_until=after + timedelta(days=rules.soon_days - 1),
            meetings_until=after + timedelta(days=rules.meeting_notice_days - 1),
            overdue_until=days.counting_back(day, rules.nudge_after_working_days) - one,
            nudged_until=days.counting_back(day, rules.nudge_every_working_days) - one,
            escalate_until=day - timedelta(days=rules.escalate_after_days),
            stop_before=day - timedelta(days=rules.stop_after_days),
            week=(monday, monday + timedelta(days=6)) if first <= day <= latest else None,
        )


@dataclass
class SweepPlan:
    """What a sweep on `day` sends, and the items it marks as nudged or escalated: item id →
    (nudged_on, escalated_on) as they will be stored."""

    day: date
    notices: list[Reminder] = field(default_factory=list)
    marks: dict[int, tuple[date | None, date | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class SweepResult:
    """What a sweep did: the day it swept (None outside sending hours), the notices it offered
    the outbox by kind, and how many of them were new there (those queued before, by an earlier
    sweep or another process, are ignored)."""

    day: date | None
    offered: dict[NoticeKind, int]
    queued: int = 0

    @property
    def total(self) -> int:
        """Notices offered to the outbox."""
        return sum(self.offered.values())


@dataclass(frozen=True)
class PreviewLine:
    """A reminder a sweep would send: to whom (e-mail), what, about what, which date."""

    recipient: str
    person_id: int
    kind: NoticeKind
    subject: str
    due: date
    params: dict[str, object]


async def sweep(
    database: Database,
    *,
    now: datetime,
    zone: ZoneInfo,
    policies: RegionPolicies | None = None,
    rules: NudgeRules | None = None,
) -> SweepResult:
    """Queue today's reminders (if `now` is within sending hours of a working day)."""
    days = WorkingDays(zone)
    day = days.sending_day(now)
    if day is None:
        return SweepResult(day=None, offered={})
    async with unit_of_work(database) as uow:
        session = uow.session
        await transaction_lock(session, SWEEP_LOCK_KEY)
        plan = await plan_sweep(
            session, day=day, days=days, policies=policies or shipped_policies(), rules=rules
        )
        last = await _last_outbox_id(session)
        await uow.notify_many([n.queued(now) for n in plan.notices])
        queued = await _written_since(session, last)
        await _mark(session, plan)
    offered: dict[NoticeKind, int] = defaultdict(int)
    for notice in plan.notices:
        offered[notice.kind] += 1
    return SweepResult(day=day, offered=dict(offered), queued=queued)


async def _last_outbox_id(session: AsyncSession) -> int:
    """The newest outbox row's id (0 for none): rows after it are this sweep's."""
    found = (await session.exec(select(func.max(OutboxMessage.id)))).first()
    return int(found or 0)


async def _written_since(session: AsyncSession, last: int) -> int:
    """Reminders written after outbox row `last` (sweeps take turns, so: by this sweep)."""
    query = select(func.count()).where(
        col(OutboxMessage.id) > last, col(OutboxMessage.kind).in_(REMINDER_VALUES)
    )
    return int((await session.exec(query)).one())


async def preview(
    database: Database,
    *,
    now: datetime,
    zone: ZoneInfo,
    policies: RegionPolicies | None = None,
    rules: NudgeRules | None = None,
) -> list[PreviewLine]:
    """What a sweep at `now` would queue that is not queued yet; writes nothing."""
    days = WorkingDays(zone)
    day = days.sending_day(now)
    if day is None:
        return []
    async with database.session(write_lock=False) as session:
        plan = await plan_sweep(
            session, day=day, days=days, policies=policies or shipped_policies(), rules=rules
        )
        queued = await already_queued(session, [n.dedupe_key for n in plan.notices])
        fresh = [n for n in plan.notices if n.dedupe_key not in queued]
        ids = sorted({n.person_id for n in fresh})
        emails = dict(
            (
                await session.exec(select(Person.id, Person.email).where(col(Person.id).in_(ids)))
            ).all()
        )
    return [
        PreviewLine(
            recipient=emails.get(n.person_id, ""),
            person_id=n.person_id,
            kind=n.kind,
            subject=n.subject,
            due=n.on,
            params=n.params.model_dump(mode="json"),
        )
        for n in fresh
    ]


async def _mark(session: AsyncSession, plan: SweepPlan) -> None:
    """Record which items were nudged or escalated today, in one statement."""
    if not plan.marks:
        return
    table = PlanItem.__table__  # type: ignore[attr-defined]
    statement = (
        update(table)
        .where(table.c.id == bindparam("item_id"))
        .values(nudged_on=bindparam("nudged"), escalated_on=bindparam("escalated"))
    )
    rows = [
        {"item_id": item_id, "nudged": nudged, "escalated": escalated}
        for item_id, (nudged, escalated) in sorted(plan.marks.items())
    ]
    await session.exec(statement, params=rows)


async def plan_sweep(
    session: AsyncSession,
    *,
    day: date,
    days: WorkingDays,
    policies: RegionPolicies,
    rules: NudgeRules | None = None,
) -> SweepPlan:
    """Everything a sweep on the working day `day` sends, read in a fixed number of queries."""
    rules = rules or NudgeRules()
    window = Window.of(day, days, rules)
    builder = _Builder(SweepPlan(day=day), policies, window)
    items = await _open_items(session, window)
    builder.items(items)
    await builder.escalations_and_meetings(session)
    builder.start_notices(await _starting(session, window, rules))
    sessions = await _session_occurrences(session, window, days.zone)
    builder.sessions(sessions)
    if window.week is not None:
        builder.digests(await _in_bt_this_week(session, window.week), sessions)
    builder.drop_paused(await all_pauses(session))
    builder.plan.notices.sort(key=lambda n: (n.kind.value, n.person_id, n.subject, n.on))
    return builder.plan


@dataclass(frozen=True)
class _Item:
    id: int
    doctor_id: int
    region: str
    kind: ItemKind
    due: date
    placement_id: int | None
    nudged_on: date | None
    escalated_on: date | None
    # Whether the plan knew the date before it passed: an item generated (or moved) after its
    # date, e.g. when a doctor joins mid-BT, was perhaps done before the bot knew of it, so
    # nobody is nudged about it.
    known_in_time: bool
    handledare: int | None
    huvudhandledare: int | None


@dataclass(frozen=True)
class _Queries:
    """The sweep's statements, built once: each sweep only binds its dates and ids (building a
    statement costs more than running it on a small database)."""

    items: Any
    programmes_starting: Any
    start_items: Any
    sessions: SelectOfScalar[CourseSession]
    skips: Any
    enrolled: Any
    in_bt: Any
    directors: Any


def _active(person: Any, person_id: int | None) -> Any:
    """Join a person by id, only while active in the roster."""
    return and_(col(person.id) == person_id, col(person.active).is_(True))


@cache
def _queries() -> _Queries:
    handledare, huvudhandledare, supervisor = aliased(Person), aliased(Person), aliased(Person)
    return _Queries(
        # Open items of active doctors due in the sweep's windows (one range, so the (status,
        # due) index serves it), with their supervisors if still active.
        items=wide_select(
            PlanItem.id,
            PlanItem.doctor_id,
            Person.region_code,
            PlanItem.kind,
            PlanItem.due,
            PlanItem.placement_id,
            PlanItem.nudged_on,
            PlanItem.escalated_on,
            (col(PlanItem.due_known_on) <= col(PlanItem.due)).label("known"),
            handledare.id,
            huvudhandledare.id,
        )
        .join(Person, col(Person.id) == PlanItem.doctor_id)
        .outerjoin(BTProgramme, col(BTProgramme.doctor_id) == PlanItem.doctor_id)
        .outerjoin(Placement, col(Placement.id) == PlanItem.placement_id)
        .outerjoin(handledare, _active(handledare, Placement.supervisor_id))
        .outerjoin(huvudhandledare, _active(huvudhandledare, BTProgramme.main_supervisor_id))
        .where(
            col(PlanItem.status) == ItemStatus.open,
            col(Person.active).is_(True),
            col(PlanItem.due).between(bindparam("since"), bindparam("until")),
        )
        .order_by(col(PlanItem.due), col(PlanItem.id)),
        # Doctors in the first weeks of BT; their start items are read by doctor afterwards, so
        # no index scan runs over every open item.
        programmes_starting=wide_select(BTProgramme.doctor_id, BTProgramme.start, supervisor.id)
        .join(Person, col(Person.id) == BTProgramme.doctor_id)
        .outerjoin(supervisor, _active(supervisor, BTProgramme.main_supervisor_id))
        .where(
            col(Person.active).is_(True),
            col(BTProgramme.start).between(bindparam("since"), bindparam("until")),
        )
        .order_by(col(BTProgramme.doctor_id)),
        start_items=select(PlanItem.doctor_id, PlanItem.id)
        .where(
            col(PlanItem.doctor_id).in_(bindparam("ids", expanding=True)),
            col(PlanItem.kind).in_(START_KINDS),
            col(PlanItem.status) == ItemStatus.open,
        )
        .order_by(col(PlanItem.id)),
        sessions=select(CourseSession).where(
            col(CourseSession.status) == SessionStatus.scheduled,
            col(CourseSession.starts_at) < bindparam("until"),
            or_(
                col(CourseSession.starts_at) >= bindparam("since"),
                and_(
                    col(CourseSession.recurrence) == Recurrence.weekly,
                    col(CourseSession.repeat_until) >= bindparam("first"),
                ),
            ),
        ),
        skips=select(SessionSkip.session_id, col(SessionSkip.occurs_on)).where(
            col(SessionSkip.session_id).in_(bindparam("ids", expanding=True))
        ),
        enrolled=select(Enrolment.session_id, Enrolment.doctor_id)
        .join(Person, col(Person.id) == Enrolment.doctor_id)
        .where(
            col(Enrolment.session_id).in_(bindparam("ids", expanding=True)),
            col(Enrolment.status) == EnrolmentStatus.enrolled,
            col(Person.active).is_(True),
        )
        .order_by(col(Enrolment.doctor_id)),
        in_bt=wide_select(BTProgramme.doctor_id, Person.region_code)
        .join(Person, col(Person.id) == BTProgramme.doctor_id)
        .where(
            col(Person.active).is_(True),
            col(BTProgramme.start) <= bindparam("sunday"),
            col(BTProgramme.planned_end) >= bindparam("monday"),
        )
        .order_by(col(BTProgramme.doctor_id)),
        directors=wide_select(Person.id, Person.region_code)
        .join(PersonRole, col(PersonRole.person_id) == Person.id)
        .where(col(PersonRole.role) == Role.studierektor, col(Person.active).is_(True))
        .order_by(col(Person.id)),
    )


async def _open_items(session: AsyncSession, window: Window) -> list[_Item]:
    """Open items of active doctors due in any of the sweep's windows."""
    week_end = window.week[1] if window.week else window.day
    until = max(window.soon_until, window.meetings_until, week_end)
    rows = await session.exec(
        _queries().items, params={"since": window.stop_before, "until": until}
    )
    return [_Item(*row) for row in rows]


@dataclass(frozen=True)
class _Starting:
    doctor_id: int
    start: date
    main_supervisor_id: int | None
    item_ids: tuple[int, ...]


async def _starting(session: AsyncSession, window: Window, rules: NudgeRules) -> list[_Starting]:
    """Doctors in the first weeks of BT, with their open start tasks (IUP, contract)."""
    since = window.day - timedelta(days=rules.bt_start_days - 1)
    programmes = (
        await session.exec(
            _queries().programmes_starting, params={"since": since, "until": window.day}
        )
    ).all()
    if not programmes:
        return []
    items: dict[int, list[int]] = defaultdict(list)
    ids = [doctor_id for doctor_id, _, _ in programmes]
    for doctor_id, item_id in await session.exec(_queries().start_items, params={"ids": ids}):
        items[doctor_id].append(item_id)
    return [
        _Starting(doctor_id, start, supervisor_id, tuple(items[doctor_id]))
        for doctor_id, start, supervisor_id in programmes
        if items.get(doctor_id)
    ]


@dataclass(frozen=True)
class _Occurrence:
    session_id: int
    starts_at: datetime
    local_day: date
    doctor_ids: tuple[int, ...]


async def _session_occurrences(
    session: AsyncSession, window: Window, zone: ZoneInfo
) -> list[_Occurrence]:
    """Occurrences of scheduled sessions, with their enrolled (active) doctors, on the days the
    sweep reminds about (up to the next working day) and in the digest's week."""
    first = window.day + timedelta(days=1)
    last = window.next_working_day
    if window.week is not None:
        first, last = min(first, window.week[0]), max(last, window.week[1])
    since = datetime.combine(first, time(), tzinfo=zone).astimezone(UTC)
    until = datetime.combine(last + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    queries = _queries()
    candidates = (
        await session.exec(
            queries.sessions, params={"since": since, "until": until, "first": first}
        )
    ).all()
    if not candidates:
        return []
    ids = [s.id for s in candidates]
    skipped: dict[int, set[date]] = defaultdict(set)
    if any(s.recurrence is Recurrence.weekly for s in candidates):
        for session_id, occurs_on in await session.exec(queries.skips, params={"ids": ids}):
            skipped[session_id].add(occurs_on)
    enrolled: dict[int, list[int]] = defaultdict(list)
    for session_id, doctor_id in await session.exec(queries.enrolled, params={"ids": ids}):
        enrolled[session_id].append(doctor_id)
    found = []
    for candidate in candidates:
        assert candidate.id is not None
        doctors = tuple(enrolled.get(candidate.id, ()))
        if not doctors:
            continue
        for starts_at, _ in occurrences(candidate, zone, frozenset(skipped[candidate.id])):
            local_day = starts_at.astimezone(zone).date()
            if first <= local_day <= last:
                found.append(_Occurrence(candidate.id, starts_at, local_day, doctors))
    return sorted(found, key=lambda o: (o.starts_at, o.session_id))


async def _in_bt_this_week(session: AsyncSession, week: tuple[date, date]) -> list[tuple[int, str]]:
    """Active doctors whose BT runs during the week, with their regions."""
    rows = await session.exec(_queries().in_bt, params={"monday": week[0], "sunday": week[1]})
    return list(rows.all())


class _Builder:
    """Turns what the queries found into notices, following the region policies."""

    def __init__(self, plan: SweepPlan, policies: RegionPolicies, window: Window) -> None:
        self.plan = plan
        self.policies = policies
        self.window = window
        self.due_this_week: dict[int, list[int]] = defaultdict(list)
        self.meetings: list[_Item] = []
        self.escalating: list[_Item] = []
        self.overdue: dict[int, list[_Item]] = defaultdict(list)  # supervisor → items
        self.nudge_now: set[int] = set()  # supervisors with an item due for a nudge

    def add(
        self, person_id: int | None, kind: NoticeKind, subject: str, on: date, params: Params
    ) -> None:
        if person_id is None:
            return
        self.plan.notices.append(Reminder(person_id, kind, subject, on, params))

    def mark(self, item: _Item, *, nudged: bool = False, escalated: bool = False) -> None:
        """Note that today's sweep nudged (or escalated) this item."""
        before = self.plan.marks.get(item.id, (item.nudged_on, item.escalated_on))
        day = self.window.day
        self.plan.marks[item.id] = (day if nudged else before[0], day if escalated else before[1])

    def attends(self, item: _Item, who: Attendee) -> bool:
        policy = self.policies.get(item.region)
        return policy is None or who in policy.attendees(item.kind)

    def items(self, items: list[_Item]) -> None:
        window = self.window
        for item in items:
            owner = item.doctor_id if self.attends(item, Attendee.doctor) else item.huvudhandledare
            subject = f"item:{item.id}"
            due = ItemDue(
                item_id=item.id,
                item_kind=item.kind,
                due=item.due,
                days_left=(item.due - window.day).days,
            )
            if window.day <= item.due < window.next_working_day:
                self.add(owner, NoticeKind.item_due_today, subject, item.due, due)
            elif (
                window.next_working_day <= item.due <= window.soon_until
                and item.kind not in MEETING_KINDS
            ):
                self.add(owner, NoticeKind.item_due_soon, subject, item.due, due)
            if item.kind in MEETING_KINDS and window.day < item.due <= window.meetings_until:
                self.meetings.append(item)
            this_week = window.week is not None and window.week[0] <= item.due <= window.week[1]
            if this_week and self.attends(item, Attendee.doctor):
                self.due_this_week[item.doctor_id].append(item.id)
            late = window.stop_before <= item.due <= window.overdue_until
            if late and item.known_in_time:
                self._overdue(item)
        self._nudges()

    def _overdue(self, item: _Item) -> None:
        window = self.window
        supervisors = {s for s in (item.handledare, item.huvudhandledare) if s is not None}
        due_for_nudge = item.nudged_on is None or item.nudged_on <= window.nudged_until
        for supervisor in supervisors:
            self.overdue[supervisor].append(item)
            if due_for_nudge:
                self.nudge_now.add(supervisor)
        if item.due <= window.escalate_until and item.escalated_on is None:
            self.escalating.append(item)

    def _nudges(self) -> None:
        """A notice to each supervisor with an item due for a nudge, listing all their overdue."""
        for supervisor in sorted(self.nudge_now):
            listed = self.overdue[supervisor]
            params = Overdue(items=[_line(item) for item in listed])
            self.add(supervisor, NoticeKind.supervisor_overdue, "trainees", self.window.day, params)
            for item in listed:
                self.mark(item, nudged=True)

    async def escalations_and_meetings(self, session: AsyncSession) -> None:
        # Read even when nobody needs them: a sweep's statements should not vary with the day.
        directors: dict[str, list[int]] = defaultdict(list)
        for person_id, region in await session.exec(_queries().directors):
            directors[region].append(person_id)
        told: dict[int, list[_Item]] = defaultdict(list)
        for item in self.escalating:
            for director in directors.get(item.region, ()):
                told[director].append(item)
            self.mark(item, escalated=True)
        for director, items in sorted(told.items()):
            params = Overdue(items=[_line(item) for item in items])
            self.add(director, NoticeKind.studierektor_overdue, "region", self.window.day, params)
        for item in self.meetings:
            self._propose(item, directors.get(item.region, []))

    def _propose(self, item: _Item, directors: list[int]) -> None:
        who: list[int] = []
        for attendee, people in (
            (Attendee.doctor, [item.doctor_id]),
            (Attendee.handledare, [item.handledare]),
            (Attendee.huvudhandledare, [item.huvudhandledare]),
            (Attendee.studierektor, directors),
        ):
            if self.attends(item, attendee):
                who += [p for p in people if p is not None and p not in who]
        params = MeetingProposal(
            item_id=item.id,
            doctor_id=item.doctor_id,
            placement_id=item.placement_id,
            due=item.due,
            attendee_ids=who,
        )
        for person_id in who:
            self.add(person_id, NoticeKind.meeting_proposal, f"item:{item.id}", item.due, params)

    def start_notices(self, starting: Iterable[_Starting]) -> None:
        for doctor in starting:
            for person_id, as_supervisor in (
                (doctor.doctor_id, False),
                (doctor.main_supervisor_id, True),
            ):
                params = BTStart(
                    doctor_id=doctor.doctor_id,
                    bt_start=doctor.start,
                    as_main_supervisor=as_supervisor,
                    item_ids=list(doctor.item_ids),
                )
                self.add(
                    person_id,
                    NoticeKind.bt_start,
                    f"doctor:{doctor.doctor_id}",
                    doctor.start,
                    params,
                )

    def sessions(self, found: list[_Occurrence]) -> None:
        window = self.window
        for occurrence in found:
            if not window.day < occurrence.local_day <= window.next_working_day:
                continue
            params = SessionTomorrow(
                session_id=occurrence.session_id, starts_at=occurrence.starts_at
            )
            for doctor_id in occurrence.doctor_ids:
                self.add(
                    doctor_id,
                    NoticeKind.session_tomorrow,
                    f"session:{occurrence.session_id}",
                    occurrence.local_day,
                    params,
                )

    def digests(self, doctors: list[tuple[int, str]], found: list[_Occurrence]) -> None:
        assert self.window.week is not None
        monday, sunday = self.window.week
        sessions: dict[int, list[DigestSession]] = defaultdict(list)
        for occurrence in found:
            if monday <= occurrence.local_day <= sunday:
                line = DigestSession(
                    session_id=occurrence.session_id, starts_at=occurrence.starts_at
                )
                for doctor_id in occurrence.doctor_ids:
                    sessions[doctor_id].append(line)
        for doctor_id, region in doctors:
            policy = self.policies.get(region)
            hours = policy.teaching.weekly_hours if policy else None
            mine, due = sessions.get(doctor_id, []), self.due_this_week.get(doctor_id, [])
            if hours is None and not mine and not due:
                continue
            params = WeeklyDigest(
                week_start=monday, teaching_hours=hours, sessions=mine, item_ids=due
            )
            self.add(doctor_id, NoticeKind.weekly_digest, "week", monday, params)

    def drop_paused(self, pauses: Pauses) -> None:
        self.plan.notices = [
            n for n in self.plan.notices if not is_paused(pauses, n.person_id, n.kind)
        ]


def _line(item: _Item) -> OverdueLine:
    return OverdueLine(item_id=item.id, doctor_id=item.doctor_id, item_kind=item.kind, due=item.due)
