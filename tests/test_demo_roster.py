"""The demo roster follows the regions' own rules, so a demo shows BT as the sources describe it."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from btassist.demo import DEMO_MONTH, demo_roster


def _rows() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    people, placements = demo_roster(DEMO_MONTH)
    return [row.values for row in people.rows], [row.values for row in placements.rows]


def test_a_gavleborg_bt_starts_and_ends_in_primary_care() -> None:
    """Seed S3: "Bastjänstgöringen inleds och avslutas med tjänstgöring inom Primärvården"."""
    people, placements = _rows()
    region = {person["email"]: person["region"] for person in people}
    by_doctor: dict[str, list[dict[str, str]]] = defaultdict(list)
    for placement in placements:
        by_doctor[placement["doctor_email"]].append(placement)
    gavleborg = [doctor for doctor in by_doctor if region[doctor] == "gavleborg"]
    assert gavleborg
    for doctor in gavleborg:
        kinds = [
            p["kind"]
            for p in sorted(by_doctor[doctor], key=lambda p: date.fromisoformat(p["start"]))
        ]
        assert kinds[0] == kinds[-1] == "primarvard", (doctor, kinds)


def test_every_placement_has_a_supervisor_of_its_region() -> None:
    people, placements = _rows()
    supervisors = {
        person["email"]: person["region"]
        for person in people
        if "supervisor" in person["role"].split("|")
    }
    region = {person["email"]: person["region"] for person in people}
    for placement in placements:
        supervisor = placement["supervisor_email"]
        assert supervisor in supervisors, placement
        assert supervisors[supervisor] == region[placement["doctor_email"]], placement


def test_nobody_is_both_studierektor_and_supervisor() -> None:
    people, _ = _rows()
    for person in people:
        roles = set(person["role"].split("|"))
        assert not {"studierektor", "supervisor"} <= roles, person["email"]
