"""Checking roster rows against the rules and the database, collecting every problem by line."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from btassist.common.language import Language
from btassist.common.tabular import CellReader, Problem, TableRow
from btassist.roster.models import BTType, PlacementKind, Role

ROLE_ALIASES: dict[str, Role] = {
    **{role.value: role for role in Role},
    "läkare": Role.doctor,
    "bt-läkare": Role.doctor,
    "handledare": Role.supervisor,
    "koordinator": Role.coordinator,
    "samordnare": Role.coordinator,
}
PLACEMENT_ALIASES: dict[str, PlacementKind] = {
    **{kind.value: kind for kind in PlacementKind},
    "primärvård": PlacementKind.primarvard,
    "akut sjukvård": PlacementKind.akut,
}

Progress = Callable[[int], None]


class UnknownRole(ValueError):
    """A role word that is none of ours; the message lists the valid ones, Swedish words too."""

    def __init__(self, given: str) -> None:
        super().__init__(f"unknown role {given!r}; use one of {role_choices()}")
        self.given = given


def role_choices() -> str:
    """`doctor (läkare, bt-läkare), supervisor (handledare), …` for messages."""
    words: dict[Role, list[str]] = {role: [] for role in Role}
    for word, role in ROLE_ALIASES.items():
        if word != role.value:
            words[role].append(word)
    return ", ".join(
        f"{role.value} ({', '.join(words[role])})" if words[role] else role.value for role in Role
    )


def parse_role(text: str) -> Role:
    """The role a word names, English or Swedish, in any case; raises `UnknownRole`."""
    found = ROLE_ALIASES.get(text.strip().lower())
    if found is None:
        raise UnknownRole(text)
    return found


@dataclass(frozen=True)
class ProgrammeRecord:
    """The BT columns of a doctor's row."""

    bt_type: BTType
    start: date
    planned_end: date
    main_supervisor_email: str | None


@dataclass(frozen=True)
class PersonRecord:
    """A valid row of a people file."""

    line: int
    email: str
    name: str
    roles: frozenset[Role]
    region: str
    aad_object_id: str | None
    language: Language | None
    programme: ProgrammeRecord | None


@dataclass(frozen=True)
class PlacementRecord:
    """A valid row of a placements file."""

    line: int
    doctor_email: str
    kind: PlacementKind
    unit: str
    start: date
    end: date
    supervisor_email: str | None


@dataclass
class KnownPeople:
    """What the database already holds that rows may refer to."""

    regions: set[str]
    roles_by_email: dict[str, frozenset[Role]]
    email_by_aad: dict[str, str] = field(default_factory=dict)


def check_people(
    rows: Iterable[TableRow], known: KnownPeople, progress: Progress | None = None
) -> tuple[list[PersonRecord], list[Problem]]:
    """Validate a people file; a row naming a main supervisor may rely on other rows."""
    rows = list(rows)
    problems: list[Problem] = []
    records: list[PersonRecord] = []
    emails = Counter(row.values.get("email", "").strip().lower() for row in rows)
    aad_ids = Counter(row.values.get("aad_object_id", "") for row in rows)
    for row in rows:
        record = _person(CellReader(row, problems), known, emails, aad_ids)
        if record is not None:
            records.append(record)
        if progress:
            progress(1)
    roles = known.roles_by_email | {record.email: record.roles for record in records}
    for record in records:
        supervisor = record.programme.main_supervisor_email if record.programme else None
        if supervisor is not None:
            _check_supervisor(record.line, supervisor, roles, problems, record.email)
    return records, sorted(problems)


def _person(
    cells: CellReader, known: KnownPeople, emails: Counter[str], aad_ids: Counter[str]
) -> PersonRecord | None:
    email = cells.email("email")
    if email and emails[email] > 1:
        cells.fail(f"duplicate email {email} (appears {emails[email]} times in the file)")
    name = cells.text("name")
    roles: set[Role] = set()
    for part in filter(None, (p.strip().lower() for p in cells.text("role").split("|"))):
        try:
            roles.add(parse_role(part))
        except UnknownRole as error:
            cells.fail(f"{error} (separate several with |)")
    region = cells.text("region").lower()
    if region and region not in known.regions:
        cells.fail(f"unknown region {region!r} (valid: {', '.join(sorted(known.regions))})")
    aad = cells.text("aad_object_id", required=False) or None
    if aad and aad_ids[aad] > 1:
        cells.fail(f"aad_object_id {aad} is given to more than one person")
    elif aad and known.email_by_aad.get(aad, email) != email:
        cells.fail(f"aad_object_id {aad} already belongs to {known.email_by_aad[aad]}")
    language = _language(cells)
    programme = _programme(cells, is_doctor=Role.doctor in roles)
    if not cells.ok or email is None:
        return None
    return PersonRecord(
        line=cells.row.line,
        email=email,
        name=name,
        roles=frozenset(roles),
        region=region,
        aad_object_id=aad,
        language=language,
        programme=programme,
    )


def _language(cells: CellReader) -> Language | None:
    value = cells.text("language", required=False).lower()
    if not value:
        return None
    try:
        return Language(value)
    except ValueError:
        cells.fail(f"language {value!r} must be sv, en or blank")
        return None


def _programme(cells: CellReader, *, is_doctor: bool) -> ProgrammeRecord | None:
    bt_columns = ("bt_type", "bt_start", "bt_end", "main_supervisor_email")
    if not is_doctor:
        if any(cells.row.values.get(column) for column in bt_columns):
            cells.fail("BT columns are only for doctors (role doctor)")
        return None
    bt_type_text = cells.text("bt_type").lower()
    bt_type = None
    if bt_type_text:
        try:
            bt_type = BTType(bt_type_text)
        except ValueError:
            cells.fail(f"bt_type {bt_type_text!r} must be block or integrated")
    period = cells.period("bt_start", "bt_end")
    supervisor = cells.email("main_supervisor_email", required=False)
    if bt_type is None or period is None:
        return None
    return ProgrammeRecord(bt_type, period[0], period[1], supervisor)


def _check_supervisor(
    line: int,
    email: str,
    roles: dict[str, frozenset[Role]],
    problems: list[Problem],
    own_email: str | None = None,
) -> None:
    if email == own_email:
        problems.append(Problem(line, "a doctor cannot be their own supervisor"))
    elif email not in roles:
        problems.append(Problem(line, f"unknown supervisor {email} (not in the roster)"))
    elif Role.supervisor not in roles[email]:
        problems.append(Problem(line, f"{email} is in the roster but not a supervisor"))


def check_placements(
    rows: Iterable[TableRow], known: KnownPeople, progress: Progress | None = None
) -> tuple[list[PlacementRecord], list[Problem]]:
    """Validate a placements file against the people already in the database."""
    problems: list[Problem] = []
    records: list[PlacementRecord] = []
    seen: dict[tuple[str, PlacementKind, date], int] = {}
    for row in rows:
        record = _placement(CellReader(row, problems), known, problems)
        if record is not None:
            key = (record.doctor_email, record.kind, record.start)
            if key in seen:
                problems.append(
                    Problem(record.line, f"duplicate placement (same as line {seen[key]})")
                )
            else:
                seen[key] = record.line
                records.append(record)
        if progress:
            progress(1)
    return records, sorted(problems)


def _placement(
    cells: CellReader, known: KnownPeople, problems: list[Problem]
) -> PlacementRecord | None:
    doctor = cells.email("doctor_email")
    if doctor is not None:
        if doctor not in known.roles_by_email:
            cells.fail(f"unknown doctor {doctor} (import the people file first)")
        elif Role.doctor not in known.roles_by_email[doctor]:
            cells.fail(f"{doctor} is in the roster but not a doctor")
    kind_text = cells.text("kind").lower()
    kind = PLACEMENT_ALIASES.get(kind_text)
    if kind_text and kind is None:
        valid = ", ".join(k.value for k in PlacementKind)
        cells.fail(f"unknown placement kind {kind_text!r} (valid: {valid})")
    unit = cells.text("unit")
    period = cells.period("start", "end")
    supervisor = cells.email("supervisor_email", required=False)
    if supervisor is not None:
        before = len(problems)
        _check_supervisor(cells.row.line, supervisor, known.roles_by_email, problems, doctor)
        cells.ok = cells.ok and len(problems) == before
    if not cells.ok or doctor is None or kind is None or period is None:
        return None
    return PlacementRecord(cells.row.line, doctor, kind, unit, period[0], period[1], supervisor)
