"""Roster checks against a region's rules: warnings for coordinators, never a refused import.

Gävleborg's BT starts and ends in primary care; BT has at most four placements and every
placement a handledare; placements should not overlap or fall outside the BT period.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.assessments.policy import PlacementRules, RegionPolicies
from btassist.assessments.sync import SyncResult, shipped_policies, sync_plans
from btassist.db.engine import Database
from btassist.roster.models import BTProgramme, Person, PersonRole, Placement, Role


class RosterIssue(StrEnum):
    """What a warning is about (a message key suffix for the chat)."""

    no_programme = "no_programme"
    no_main_supervisor = "no_main_supervisor"
    first_placement = "first_placement"
    last_placement = "last_placement"
    too_many_placements = "too_many_placements"
    missing_kind = "missing_kind"
    no_supervisor = "no_supervisor"
    overlapping = "overlapping"
    outside_bt = "outside_bt"


@dataclass(frozen=True, order=True)
class RosterWarning:
    """A doctor's roster entry breaks a rule of their region (English text for the CLI)."""

    doctor_email: str
    issue: RosterIssue
    message: str


async def check_roster(
    session: AsyncSession, *, policies: RegionPolicies, doctor_ids: Iterable[int] | None = None
) -> list[RosterWarning]:
    """Warnings for the doctors' programmes and placements (default: every active doctor)."""
    query = (
        select(Person)
        .join(PersonRole, col(PersonRole.person_id) == Person.id)
        .where(col(PersonRole.role) == Role.doctor, col(Person.active).is_(True))
    )
    if doctor_ids is not None:
        query = query.where(col(Person.id).in_(list(doctor_ids)))
    doctors = {d.id: d for d in (await session.exec(query)).all()}
    programmes = {
        p.doctor_id: p
        for p in (
            await session.exec(
                select(BTProgramme).where(col(BTProgramme.doctor_id).in_(list(doctors)))
            )
        ).all()
    }
    placements: dict[int, list[Placement]] = defaultdict(list)
    for placement in (
        await session.exec(
            select(Placement)
            .where(col(Placement.doctor_id).in_(list(doctors)))
            .order_by(col(Placement.start), col(Placement.id))
        )
    ).all():
        placements[placement.doctor_id].append(placement)
    warnings = []
    for doctor_id, doctor in doctors.items():
        assert doctor_id is not None
        policy = policies.get(doctor.region_code)
        found = _Checks(doctor.email)
        programme = programmes.get(doctor_id)
        mine = placements.get(doctor_id, [])
        if programme is None:
            found.add(RosterIssue.no_programme, "no BT dates (bt_start, bt_end): no plan is made")
        elif programme.main_supervisor_id is None:
            found.add(RosterIssue.no_main_supervisor, "no huvudhandledare (main_supervisor_email)")
        if policy is not None and mine:
            found.region_rules(policy.placements, mine, policy.region)
        found.placements(mine, programme)
        warnings += found.warnings
    return sorted(warnings)


def _label(placement: Placement) -> str:
    return f"{placement.kind} {placement.start}–{placement.end} ({placement.unit})"


class _Checks:
    def __init__(self, email: str) -> None:
        self.email = email
        self.warnings: list[RosterWarning] = []

    def add(self, issue: RosterIssue, message: str) -> None:
        self.warnings.append(RosterWarning(self.email, issue, message))

    def region_rules(self, rules: PlacementRules, placements: list[Placement], region: str) -> None:
        first, last = placements[0], max(placements, key=lambda p: (p.end, p.start))
        if rules.first is not None and first.kind != rules.first:
            self.add(
                RosterIssue.first_placement,
                f"BT in {region} starts in {rules.first}; the first placement is {_label(first)}",
            )
        if rules.last is not None and last.kind != rules.last:
            self.add(
                RosterIssue.last_placement,
                f"BT in {region} ends in {rules.last}; the last placement is {_label(last)}",
            )
        if rules.max_placements is not None and len(placements) > rules.max_placements:
            self.add(
                RosterIssue.too_many_placements,
                f"{len(placements)} placements; BT has at most {rules.max_placements}",
            )
        missing = [kind for kind in rules.required_kinds if all(p.kind != kind for p in placements)]
        if missing:
            self.add(
                RosterIssue.missing_kind,
                f"no {', '.join(missing)} placement, which BT in {region} includes",
            )
        if rules.supervisor_required:
            for placement in placements:
                if placement.supervisor_id is None:
                    self.add(RosterIssue.no_supervisor, f"no handledare for {_label(placement)}")

    def placements(self, placements: list[Placement], programme: BTProgramme | None) -> None:
        reach: Placement | None = None  # the placement reaching furthest so far
        for placement in placements:
            if reach is not None and placement.start <= reach.end:
                self.add(RosterIssue.overlapping, f"{_label(reach)} overlaps {_label(placement)}")
            if reach is None or placement.end > reach.end:
                reach = placement
        if programme is None:
            return
        for placement in placements:
            if placement.start < programme.start or placement.end > programme.planned_end:
                self.add(
                    RosterIssue.outside_bt,
                    f"{_label(placement)} is outside the BT period "
                    f"{programme.start}–{programme.planned_end}",
                )


@dataclass(frozen=True)
class AfterImport:
    """What a roster import changed in the plans, and what the region rules warn about."""

    plans: SyncResult
    warnings: list[RosterWarning]


async def plans_after_import(
    database: Database, *, emails: Iterable[str], policies: RegionPolicies | None = None
) -> AfterImport:
    """After a roster import: regenerate the plans of the doctors the file named, and check
    their roster entries. For every import path (the command line, an Excel upload in Teams)."""
    policies = policies or shipped_policies()
    wanted = sorted({email.strip().lower() for email in emails if email and email.strip()})
    async with database.session() as session:
        found = await session.exec(
            select(Person.id)
            .join(PersonRole, col(PersonRole.person_id) == Person.id)
            .where(col(Person.email).in_(wanted), col(PersonRole.role) == Role.doctor)
        )
        ids = [person_id for person_id in found.all() if person_id is not None]
        plans = await sync_plans(session, ids, policies=policies)
        warnings = await check_roster(session, policies=policies, doctor_ids=ids)
    return AfterImport(plans, warnings)
