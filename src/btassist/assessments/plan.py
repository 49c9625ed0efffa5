"""What a doctor's plan should hold: items computed from the region's policy, the BT programme and
the placements. Pure: no database, so the rules read (and are tested) on their own.

Due dates fall on working days: a date on a weekend or holiday moves to the working day before,
since an assessment or meeting that closes something is better early than late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from btassist.assessments.models import ItemKind
from btassist.assessments.policy import RegionPolicy
from btassist.common.workdays import WorkingDays
from btassist.roster.models import BTProgramme, Placement

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class WantedItem:
    """An item the policy asks for: its key in the plan, kind, due date and placement."""

    key: str
    kind: ItemKind
    due: date
    placement_id: int | None


def plan_for(
    policy: RegionPolicy,
    programme: BTProgramme,
    placements: list[Placement],
    days: WorkingDays,
) -> list[WantedItem]:
    """Every item the region's policy implies for this BT, in due-date order."""
    ordered = sorted(placements, key=lambda p: (p.start, p.id or 0))
    items: list[WantedItem] = []
    for placement in ordered:
        items += _placement_items(policy, placement, days)
    start, end = programme.start, programme.planned_end
    for kind, rule in (
        (ItemKind.iup, policy.iup),
        (ItemKind.supervision_contract, policy.supervision_contract),
    ):
        if rule.required:
            items.append(_general(kind, kind.value, start + timedelta(days=rule.within_days)))
    kollegium = policy.kollegium
    if kollegium.held:
        moments = [start + relativedelta(months=m) for m in kollegium.at_months]
        moments += [start + (end - start) * fraction for fraction in kollegium.at_fraction]
        items += [
            _general(ItemKind.kollegium, f"kollegium:{n}", moment)
            for n, moment in enumerate(sorted(moments), start=1)
        ]
    final_due = end - timedelta(days=policy.final_assessment.before_end_days)
    items.append(_general(ItemKind.final_assessment, "final_assessment", final_due))
    resolved = [_on_working_day(item, days, ordered) for item in items]
    return sorted(resolved, key=lambda item: (item.due, item.key))


def _general(kind: ItemKind, key: str, due: date) -> WantedItem:
    return WantedItem(key=key, kind=kind, due=due, placement_id=None)


def _on_working_day(item: WantedItem, days: WorkingDays, placements: list[Placement]) -> WantedItem:
    """The item on a working day, with the placement it falls in when it has none of its own."""
    due = days.on_or_before(item.due)
    placement_id = item.placement_id
    if placement_id is None:
        placement_id = covering_placement(placements, due)
    return WantedItem(key=item.key, kind=item.kind, due=due, placement_id=placement_id)


def covering_placement(placements: list[Placement], day: date) -> int | None:
    """The (first) placement running on `day`: whose handledare an item on that day concerns."""
    for placement in sorted(placements, key=lambda p: (p.start, p.id or 0)):
        if placement.start <= day <= placement.end:
            return placement.id
    return None


def _placement_items(
    policy: RegionPolicy, placement: Placement, days: WorkingDays
) -> list[WantedItem]:
    assert placement.id is not None
    pid = placement.id
    closing = policy.placement_assessment
    dues = assessment_dues(policy, placement.start, placement.end, closed=closing.held)
    items = [
        WantedItem(f"assessment:{pid}:{n}", ItemKind.assessment, due, pid)
        for n, due in enumerate(dues, start=1)
    ]
    for kind, rule in (
        (ItemKind.placement_assessment, closing),
        (ItemKind.end_meeting, policy.end_of_placement_meeting),
    ):
        if rule.held:
            due = max(placement.end - timedelta(days=rule.before_end_days), placement.start)
            items.append(WantedItem(f"{kind.value}:{pid}", kind, due, pid))
    return items


def assessment_dues(policy: RegionPolicy, start: date, end: date, *, closed: bool) -> list[date]:
    """When a placement's formative assessments fall (before moving to working days).

    A monthly rhythm gives one a month after the start, each month while within the placement
    (one on the last day if none fits and nothing else closes the placement). A count is spread
    evenly: the last on the placement's last day, or, when a final/overall assessment closes the
    placement, all before it.
    """
    rule = policy.assessments
    if rule.every_months is not None:
        dues = []
        step = 1
        while (due := start + relativedelta(months=rule.every_months * step)) <= end:
            dues.append(due)
            step += 1
        return dues or ([] if closed else [end])
    length = end - start
    count = rule.count_for((length.days + 1) / DAYS_PER_MONTH)
    parts = count + 1 if closed else count
    return [start + length * n / parts for n in range(1, count + 1)]
