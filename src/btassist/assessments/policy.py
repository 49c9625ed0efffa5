"""Region policies: each region's assessment rhythm, meetings and start tasks, as sourced YAML.

One file per region in `policies/` (or a directory coordinators edit). Every rule names its
`source` (the seed or external ids of bt_facts.md), a `caution` where the source is thin, and a
`default` saying why a value was chosen where the source is silent:

    assessments:
      name: {sv: Kompetensvärdering, en: Competence assessment}
      every_months: 1                    # or: count: 2 (per placement), per_months: 3 (scaled)
      instruments: [Mini-CEX, DOPS, CBD]
      source: "S3: … varje månad"
      default: "S3 does not name the instruments; …"

The files are checked as a whole: every problem is reported as `file:line: message`, with the
line taken from the YAML node tree, and nothing is used until all six regions are valid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from btassist.assessments.models import ItemKind
from btassist.common.language import Language
from btassist.common.regions import REGION_CODES
from btassist.courses.catalogue import FileProblem as PolicyProblem
from btassist.roster.models import PlacementKind

MAX_FILE_BYTES = 1024 * 1024
Path_ = tuple[str | int, ...]
FRIENDLIER = {"missing": "is missing", "extra_forbidden": "is not a known field"}


class Attendee(StrEnum):
    """Who takes part in an item of the plan, as the regions name them."""

    doctor = "doctor"  # the BT doctor
    handledare = "handledare"  # the placement's clinical supervisor
    huvudhandledare = "huvudhandledare"  # the main supervisor for the whole BT
    studierektor = "studierektor"  # the region's BT director(s) of studies
    extern_bedomare = "extern_bedomare"  # the external assessor (not in the roster)


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bilingual(_Rule):
    """A name in Swedish and English."""

    sv: Annotated[str, Field(min_length=1, max_length=120)]
    en: Annotated[str, Field(min_length=1, max_length=120)]

    def text(self, language: Language) -> str:
        """The name in `language`."""
        return self.sv if language is Language.sv else self.en


class Sourced(_Rule):
    """Where a rule comes from: a source, a caution where it is thin, a default where silent."""

    source: Annotated[str, Field(min_length=1, max_length=400)] | None = None
    caution: Annotated[str, Field(min_length=1, max_length=400)] | None = None
    default: Annotated[str, Field(min_length=1, max_length=400)] | None = None

    @model_validator(mode="after")
    def _says_where_it_comes_from(self) -> Self:
        if self.source is None and self.default is None:
            raise ValueError(
                "give a `source`, or a `default` saying why where the sources are silent"
            )
        return self


Attendees = Annotated[tuple[Attendee, ...], Field(min_length=1)]


class AssessmentRule(Sourced):
    """Formative assessments during each placement: a monthly rhythm, or a count per placement."""

    name: Bilingual
    every_months: Annotated[int, Field(ge=1, le=12)] | None = None
    count: Annotated[int, Field(ge=1, le=12)] | None = None
    per_months: Annotated[float, Field(gt=0, le=12)] | None = None
    instruments: Annotated[
        tuple[Annotated[str, Field(min_length=1, max_length=50)], ...], Field(min_length=1)
    ]
    attendees: Attendees = (Attendee.doctor, Attendee.handledare)

    @model_validator(mode="after")
    def _one_rhythm(self) -> Self:
        if (self.every_months is None) == (self.count is None):
            raise ValueError("give either `every_months` or `count` (with `per_months` to scale)")
        if self.per_months is not None and self.count is None:
            raise ValueError("`per_months` scales a `count`; give `count` too")
        return self

    def count_for(self, months: float) -> int:
        """How many assessments a placement of `months` months gets under a `count` rule."""
        assert self.count is not None
        if self.per_months is None:
            return self.count
        return max(1, math.floor(self.count * months / self.per_months + 0.5))


class HeldRule(Sourced):
    """Something a region does (or not): named, with who attends."""

    held: bool
    name: Bilingual | None = None
    attendees: tuple[Attendee, ...] = ()

    @model_validator(mode="after")
    def _named_when_held(self) -> Self:
        if self.held and (self.name is None or not self.attendees):
            raise ValueError("a rule that is held needs a `name` and its `attendees`")
        return self


class PlacementEndRule(HeldRule):
    """An assessment or meeting at the end of every placement."""

    before_end_days: Annotated[int, Field(ge=0, le=60)] = 0


class KollegiumRule(HeldRule):
    """BT-kollegium: a panel on the doctor's progress, at months or fractions of the BT period."""

    at_months: tuple[Annotated[int, Field(ge=1, le=24)], ...] = ()
    at_fraction: tuple[Annotated[float, Field(gt=0, lt=1)], ...] = ()

    @model_validator(mode="after")
    def _timed_when_held(self) -> Self:
        if self.held and bool(self.at_months) == bool(self.at_fraction):
            raise ValueError("a kollegium that is held needs either `at_months` or `at_fraction`")
        return self


class TeachingRule(Sourced):
    """Scheduled teaching a week, shown in the Monday digest."""

    weekly_hours: Annotated[float, Field(gt=0, le=40)] | None = None


class StartTaskRule(Sourced):
    """Something set up at the start of BT with the huvudhandledare (IUP, supervision contract)."""

    required: bool
    name: Bilingual | None = None
    within_days: Annotated[int, Field(ge=0, le=90)] = 14
    attendees: Attendees = (Attendee.doctor, Attendee.huvudhandledare)

    @model_validator(mode="after")
    def _named_when_required(self) -> Self:
        if self.required and self.name is None:
            raise ValueError("a required start task needs a `name`")
        return self


class FinalAssessmentRule(Sourced):
    """The summative assessment at the end of BT, with the external assessor."""

    name: Bilingual
    before_end_days: Annotated[int, Field(ge=0, le=90)] = 14
    attendees: Attendees = (Attendee.doctor, Attendee.huvudhandledare, Attendee.extern_bedomare)


class PlacementRules(Sourced):
    """What the roster check warns about (it never blocks an import)."""

    first: PlacementKind | None = None
    last: PlacementKind | None = None
    max_placements: Annotated[int, Field(ge=1, le=12)] | None = None
    required_kinds: tuple[PlacementKind, ...] = ()
    supervisor_required: bool = True


class RegionPolicy(_Rule):
    """One region's rules for the plan, the reminders and the roster check."""

    region: str
    reviewed: date
    assessments: AssessmentRule
    placement_assessment: PlacementEndRule
    end_of_placement_meeting: PlacementEndRule
    kollegium: KollegiumRule
    teaching: TeachingRule
    iup: StartTaskRule
    supervision_contract: StartTaskRule
    final_assessment: FinalAssessmentRule
    placements: PlacementRules

    @model_validator(mode="after")
    def _known_region(self) -> Self:
        if self.region not in REGION_CODES:
            raise ValueError(f"unknown region {self.region!r} (valid: {', '.join(REGION_CODES)})")
        return self

    def _rule(
        self, kind: ItemKind
    ) -> AssessmentRule | HeldRule | StartTaskRule | FinalAssessmentRule:
        rules: dict[ItemKind, AssessmentRule | HeldRule | StartTaskRule | FinalAssessmentRule] = {
            ItemKind.assessment: self.assessments,
            ItemKind.placement_assessment: self.placement_assessment,
            ItemKind.end_meeting: self.end_of_placement_meeting,
            ItemKind.kollegium: self.kollegium,
            ItemKind.iup: self.iup,
            ItemKind.supervision_contract: self.supervision_contract,
            ItemKind.final_assessment: self.final_assessment,
        }
        return rules[kind]

    def attendees(self, kind: ItemKind) -> tuple[Attendee, ...]:
        """Who takes part in an item of this kind."""
        return self._rule(kind).attendees

    def name(self, kind: ItemKind, language: Language) -> str:
        """What the region calls an item of this kind (e.g. "Överrapporteringsmöte")."""
        name = self._rule(kind).name
        return name.text(language) if name is not None else kind.value

    def caution(self, kind: ItemKind) -> str | None:
        """Why the rule behind an item of this kind is uncertain, if it is."""
        return self._rule(kind).caution


class PolicyError(ValueError):
    """The policy files cannot be used; `problems` lists every one by file and line."""

    def __init__(self, problems: list[PolicyProblem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


@dataclass(frozen=True)
class RegionPolicies:
    """The valid policies of all six regions."""

    by_region: dict[str, RegionPolicy]

    def __getitem__(self, region: str) -> RegionPolicy:
        return self.by_region[region]

    def get(self, region: str) -> RegionPolicy | None:
        """The policy of a region, or None for a region code not configured."""
        return self.by_region.get(region)


def packaged_policies() -> Traversable:
    """The directory of policies shipped with the code."""
    return resources.files("btassist.assessments").joinpath("policies")


def policy_files(directory: Path | Traversable) -> list[Path | Traversable]:
    """The `*.yaml` files of a policy directory, by name."""
    return sorted(
        (entry for entry in directory.iterdir() if entry.name.endswith(".yaml")),
        key=lambda entry: entry.name,
    )


def load_policies(directory: Path | Traversable | None = None) -> RegionPolicies:
    """Read and check a policy directory (default: the shipped one); raises `PolicyError`."""
    directory = directory or packaged_policies()
    problems: list[PolicyProblem] = []
    found: dict[str, RegionPolicy] = {}
    for entry in policy_files(directory):
        policy = _read_policy(entry, problems)
        if policy is None:
            continue
        stem = entry.name.removesuffix(".yaml")
        if policy.region != stem:
            problems.append(
                PolicyProblem(
                    entry.name,
                    1,
                    f"the file for {policy.region} must be named {policy.region}.yaml",
                )
            )
        elif policy.region in found:
            problems.append(PolicyProblem(entry.name, 1, f"{policy.region} has two policy files"))
        else:
            found[policy.region] = policy
    missing = [code for code in REGION_CODES if code not in found]
    if missing and not problems:
        problems.append(PolicyProblem(str(directory), 0, f"no policy for {', '.join(missing)}"))
    if problems:
        raise PolicyError(sorted(problems))
    return RegionPolicies(found)


def parse_policy(text: str, *, name: str) -> RegionPolicy:
    """Check one policy text (tests, `btassist assessments check`); raises `PolicyError`."""
    problems: list[PolicyProblem] = []
    policy = _policy_from_text(text, name, problems)
    if policy is None:
        raise PolicyError(sorted(problems))
    return policy


def _read_policy(entry: Path | Traversable, problems: list[PolicyProblem]) -> RegionPolicy | None:
    try:
        raw = entry.read_bytes()
    except OSError as error:
        problems.append(PolicyProblem(entry.name, 0, f"cannot read: {error.strerror or error}"))
        return None
    if len(raw) > MAX_FILE_BYTES:
        problems.append(PolicyProblem(entry.name, 0, "larger than 1 MB"))
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        problems.append(PolicyProblem(entry.name, 0, f"not UTF-8 (byte {error.start})"))
        return None
    return _policy_from_text(text, entry.name, problems)


def _policy_from_text(text: str, name: str, problems: list[PolicyProblem]) -> RegionPolicy | None:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 0
        problems.append(PolicyProblem(name, line, f"not valid YAML: {error.problem}"))
        return None
    except yaml.YAMLError as error:
        problems.append(PolicyProblem(name, 0, f"not valid YAML: {error}"))
        return None
    if not isinstance(root, MappingNode):
        line = root.start_mark.line + 1 if root is not None else 1
        problems.append(
            PolicyProblem(name, line, "expected a mapping (region:, reviewed:, assessments:, …)")
        )
        return None
    lines: dict[Path_, int] = {(): root.start_mark.line + 1}
    data = _plain(root, (), lines, name, problems)
    try:
        return RegionPolicy.model_validate(data)
    except ValidationError as error:
        for detail in error.errors():
            where = tuple(detail["loc"])
            message = FRIENDLIER.get(
                detail["type"], str(detail["msg"]).removeprefix("Value error, ")
            )
            label = ".".join(str(part) for part in where)
            problems.append(
                PolicyProblem(
                    name, _line_of(where, lines), f"{label}: {message}" if label else message
                )
            )
        return None


def _plain(
    node: Node, path: Path_, lines: dict[Path_, int], name: str, problems: list[PolicyProblem]
) -> Any:
    """The node as plain Python, noting the line of every key and list item on the way."""
    if isinstance(node, MappingNode):
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                problems.append(PolicyProblem(name, line, "field names must be plain words"))
                continue
            if key in mapping:
                first = lines[(*path, key)]
                problems.append(
                    PolicyProblem(name, line, f"{key} appears twice (first at line {first})")
                )
                continue
            lines[(*path, key)] = line
            mapping[key] = _plain(value_node, (*path, key), lines, name, problems)
        return mapping
    if isinstance(node, SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            items.append(_plain(item, (*path, index), lines, name, problems))
        return items
    return SafeConstructor().construct_object(node, deep=True)


def _line_of(where: Path_, lines: dict[Path_, int]) -> int:
    """The line of the deepest part of a pydantic error location the file has."""
    for end in range(len(where), -1, -1):
        line = lines.get(where[:end])
        if line is not None:
            return line
    return 1
