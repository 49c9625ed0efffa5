"""The FAQ knowledge base as data files: reading, validating, and saying exactly what is wrong.

A directory holds `*.yaml` files. Entry files have a top-level `entries:` list; `contacts.yaml`
holds the regions' role contacts (titles and functional mailboxes, never private names);
`declined.yaml` lists topics the bot never answers (salaries, patient care …); `synonyms.yaml`
lists the words that mean the same thing to the search.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from btassist.common.regions import REGION_CODES
from btassist.common.text import fold

PACKAGED_KB = Path(__file__).with_name("kb")
CONTACTS_FILE = "contacts.yaml"
DECLINED_FILE = "declined.yaml"
SYNONYMS_FILE = "synonyms.yaml"
CAUTION_MARK = "⚠"
NATIONAL = "national"

Scope = Literal["national", "vgr", "kronoberg", "gavleborg", "orebro", "jonkoping", "halland"]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
M = TypeVar("M", bound=BaseModel)


class ContactRole(StrEnum):
    """Which of the asker's own contacts an entry is about: answered from the roster."""

    studierektor = "studierektor"
    coordinator = "coordinator"
    main_supervisor = "main_supervisor"
    supervisor = "supervisor"
    all = "all"


class Coverage(StrEnum):
    """What an answer covers, for the card's scope line."""

    national = "national"
    """A national rule or fact: the same everywhere."""
    overview = "overview"
    """A comparison of the regions: what each one says, not a rule for all."""
    example = "example"
    """One region's or hospital's practice, shown as an example of how it can be done."""
    region = "region"
    """The entry's own region's fact."""


class Action(StrEnum):
    """A feature of the bot an answer leads on to, offered as a button under it."""

    courses = "courses"
    my_courses = "my_courses"
    calendar = "calendar"
    assessments = "assessments"
    contacts = "contacts"
    trainees = "trainees"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Texts(_Strict):
    """One text in Swedish and in English."""

    sv: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def __getitem__(self, language: str) -> str:
        return self.sv if language == "sv" else self.en


class Questions(_Strict):
    """Ways people ask for an entry, in each language."""

    sv: tuple[str, ...] = Field(min_length=1)
    en: tuple[str, ...] = Field(min_length=1)


class Source(_Strict):
    """Where an answer comes from: a named public page and/or a seed file."""

    name: str = Field(min_length=1)
    url: str | None = Field(None, pattern=r"^https?://\S+$")
    seed: str | None = None


class Entry(_Strict):
    """One reviewed fact, answered in full and only as written."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)
    scope: Scope
    questions: Questions
    answer: Texts
    source: Source
    also: tuple[Source, ...] = ()
    """Further sources, for the parts of the answer `source` does not cover."""
    reviewed: date
    caution: bool | Texts = False
    """The source is secondary, dated or conflicting. Text says what is uncertain; the card shows
    it once, beside who to check with, so the answer itself carries no ⚠."""
    coverage: Coverage | None = None
    """Default: `national` for national entries, `region` for regional ones."""
    action: Action | None = None
    keywords: tuple[str, ...] = ()
    contact: ContactRole | None = None
    """Set on "who is my …" entries: the bot answers from the asker's roster contacts."""
    refines: tuple[str, ...] = ()
    """National entries this regional entry stands in for: for askers in its region (or a
    question naming it), this one answers their questions."""

    @field_validator("refines", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    def title(self, language: str) -> str:
        """The first question in `language`: the entry's name on buttons and in reports."""
        return self.questions.sv[0] if language == "sv" else self.questions.en[0]

    @property
    def applies(self) -> Coverage:
        """What the answer covers: `coverage`, else national or the entry's region."""
        if self.coverage is not None:
            return self.coverage
        return Coverage.national if self.scope == NATIONAL else Coverage.region

    def caution_note(self, language: str) -> str | None:
        """What is uncertain about the answer, when the entry says (None: not said, or sure)."""
        return self.caution[language] if isinstance(self.caution, Texts) else None


class EntryFile(_Strict):
    """A file of entries; `sources:` may name sources once, for YAML anchors (&s4 … *s4)."""

    sources: dict[str, Source] = Field(default_factory=dict)
    entries: tuple[Entry, ...] = Field(min_length=1)


class RoleContact(_Strict):
    """A role (never a private name) people of a region can turn to."""

    sv: str = Field(min_length=1)
    en: str = Field(min_length=1)
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")


class RegionContacts(_Strict):
    """A region's BT roles and where they are described."""

    roles: tuple[RoleContact, ...] = Field(min_length=1)
    source: Source
    also: tuple[Source, ...] = ()
    """Further sources, for roles `source` does not name."""
    reviewed: date


class ContactsFile(_Strict):
    """contacts.yaml: role contacts per region code."""

    regions: dict[str, RegionContacts]

    @field_validator("regions")
    @classmethod
    def _known_regions(cls, value: dict[str, RegionContacts]) -> dict[str, RegionContacts]:
        unknown = sorted(set(value) - set(REGION_CODES))
        if unknown:
            raise ValueError(f"unknown region code(s) {', '.join(unknown)}; use {REGION_CODES}")
        return value


class DeclinedTopic(_Strict):
    """A topic the bot never answers from the FAQ, whatever matches: the words that signal it."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    terms: tuple[str, ...] = Field(min_length=1)


class DeclinedFile(_Strict):
    """declined.yaml."""

    topics: tuple[DeclinedTopic, ...]


Surfaces = tuple[str | tuple[str, ...], ...]


class SynonymsFile(_Strict):
    """synonyms.yaml: groups of words and phrases the search treats as one concept.

    `lists:` names word lists to reuse in several groups through YAML anchors (&countries …
    *countries); a group may hold such a list as one of its items.
    """

    lists: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    groups: dict[str, Surfaces] = Field(min_length=1)

    @field_validator("groups")
    @classmethod
    def _concept_names(cls, value: dict[str, Surfaces]) -> dict[str, Surfaces]:
        bad = [name for name in value if not re.fullmatch(r"[a-z0-9]+", name)]
        if bad:
            raise ValueError(f"concept names are lower-case letters and digits only: {bad}")
        return value

    def flattened(self) -> dict[str, tuple[str, ...]]:
        """Concept → its words and phrases, lists spelled out."""
        return {
            concept: tuple(
                word for item in surfaces for word in ((item,) if isinstance(item, str) else item)
            )
            for concept, surfaces in self.groups.items()
        }


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one file, at one line."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class KnowledgeBaseError(Exception):
    """The files cannot be served; every problem has its file and line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass(frozen=True)
class KnowledgeBaseFiles:
    """The validated content of a knowledge-base directory."""

    entries: tuple[Entry, ...]
    contacts: dict[str, RegionContacts]
    declined: tuple[DeclinedTopic, ...]
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)


def kb_files(directory: Path) -> list[Path]:
    """The YAML files of a knowledge base, in name order."""
    return sorted(path for path in directory.glob("*.yaml") if path.is_file())


def read_directory(directory: Path) -> KnowledgeBaseFiles:
    """Read and validate every file; raise `KnowledgeBaseError` listing all problems."""
    if not directory.is_dir():
        raise KnowledgeBaseError([Problem(str(directory), 0, "not a directory")])
    problems: list[Problem] = []
    entries: list[Entry] = []
    first_seen: dict[str, tuple[str, str, int]] = {}
    contacts: dict[str, RegionContacts] = {}
    declined: tuple[DeclinedTopic, ...] = ()
    synonyms: dict[str, tuple[str, ...]] = {}
    for path in kb_files(directory):
        name = path.name
        try:
            text = path.read_text("utf-8")
            raw = yaml.load(text, Loader=_Loader)
        except UnicodeDecodeError as error:
            problems.append(Problem(name, 1, f"not UTF-8 text ({error.reason})"))
            continue
        except yaml.YAMLError as error:
            problems.append(_yaml_problem(name, error))
            continue
        if name == CONTACTS_FILE:
            parsed_contacts = _validate(ContactsFile, raw, name, text, problems)
            if parsed_contacts is not None:
                contacts = parsed_contacts.regions
        elif name == DECLINED_FILE:
            parsed_declined = _validate(DeclinedFile, raw, name, text, problems)
            if parsed_declined is not None:
                declined = parsed_declined.topics
        elif name == SYNONYMS_FILE:
            parsed_synonyms = _validate(SynonymsFile, raw, name, text, problems)
            if parsed_synonyms is not None:
                synonyms = parsed_synonyms.flattened()
                problems += _synonym_problems(synonyms, name, text)
        else:
            parsed = _validate(EntryFile, raw, name, text, problems)
            if parsed is None:
                continue
            for index, entry in enumerate(parsed.entries):
                if entry.id in first_seen:
                    seen_file, seen_text, seen_index = first_seen[entry.id]
                    seen_line = _line_of(seen_text, ("entries", seen_index, "id"))
                    problems.append(
                        Problem(
                            name,
                            _line_of(text, ("entries", index, "id")),
                            f"duplicate id {entry.id!r} (first at {seen_file}:{seen_line})",
                        )
                    )
                    continue
                first_seen[entry.id] = (name, text, index)
                entries.append(entry)
                problems += _entry_problems(entry, name, text, index)
    problems += _refinement_problems(entries, first_seen)
    if not problems and not entries:
        problems.append(Problem(str(directory), 0, "no entries (*.yaml with `entries:`)"))
    if problems:
        raise KnowledgeBaseError(problems)
    return KnowledgeBaseFiles(tuple(entries), contacts, declined, synonyms)


def _entry_problems(entry: Entry, name: str, text: str, index: int) -> list[Problem]:
    """Rules across an entry's fields: coverage fits the scope, cautions are not in the answer."""
    problems = []
    unfit = {Coverage.region} if entry.scope == NATIONAL else {Coverage.national, Coverage.overview}
    if entry.coverage in unfit:
        where = _line_of(text, ("entries", index, "coverage"))
        problems.append(
            Problem(name, where, f"coverage: {entry.coverage} does not fit scope {entry.scope}")
        )
    for language in ("sv", "en"):
        if CAUTION_MARK in entry.answer[language]:
            where = _line_of(text, ("entries", index, "answer", language))
            problems.append(
                Problem(
                    name,
                    where,
                    f"answer.{language}: say what is uncertain in `caution:` (the card shows "
                    f"it once), not with {CAUTION_MARK} in the answer",
                )
            )
    return problems


def _synonym_problems(groups: dict[str, tuple[str, ...]], name: str, text: str) -> list[Problem]:
    """A word in two groups would belong to whichever came first: name both places."""
    problems = []
    owner: dict[str, str] = {}
    for concept, surfaces in groups.items():
        for surface in (concept, *surfaces):
            key = " ".join(fold(surface).replace("-", " ").split())
            if not key:
                problems.append(
                    Problem(name, _line_of(text, ("groups", concept)), f"{concept}: empty word")
                )
            elif key in owner and owner[key] != concept:
                problems.append(
                    Problem(
                        name,
                        _line_of(text, ("groups", concept)),
                        f"{concept}: {surface!r} is already in group {owner[key]!r}",
                    )
                )
            else:
                owner.setdefault(key, concept)
    return problems


def _refinement_problems(
    entries: Sequence[Entry], where: dict[str, tuple[str, str, int]]
) -> list[Problem]:
    """`refines` must name national entries and sit on a regional one."""
    scopes = {entry.id: entry.scope for entry in entries}
    problems = []
    for entry in entries:
        if not entry.refines:
            continue
        messages = []
        if entry.scope == NATIONAL:
            messages.append("refines: only a regional entry can refine")
        else:
            messages += [
                f"refines: {refined!r} is not a national entry"
                for refined in entry.refines
                if scopes.get(refined) != NATIONAL
            ]
        name, text, index = where[entry.id]
        line = _line_of(text, ("entries", index, "refines"))
        problems += [Problem(name, line, message) for message in messages]
    return problems


def _yaml_problem(name: str, error: yaml.YAMLError) -> Problem:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    return Problem(name, line, f"YAML syntax: {problem}")


def _validate(model: type[M], raw: Any, name: str, text: str, problems: list[Problem]) -> M | None:
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        for item in error.errors():
            loc = tuple(item["loc"])
            where = ".".join(str(part) for part in loc) or "(file)"
            problems.append(Problem(name, _line_of(text, loc), f"{where}: {item['msg']}"))
        return None


def _line_of(text: str, loc: Sequence[str | int]) -> int:
    """The 1-based line of the deepest node on `loc` that exists in the YAML text."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return 1
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        child = _child(node, part)
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if str(key.value) == str(part):
                return value
    elif (
        isinstance(node, yaml.SequenceNode)
        and isinstance(part, int)
        and 0 <= part < len(node.value)
    ):
        return node.value[part]
    return None


def iter_entry_texts(entry: Entry) -> Iterator[tuple[str, str, str]]:
    """(field, language, text) for every searchable text of an entry."""
    for question in entry.questions.sv:
        yield "question", "sv", question
    for question in entry.questions.en:
        yield "question", "en", question
    for keyword in entry.keywords:
        yield "keyword", "", keyword
    yield "answer", "sv", entry.answer.sv
    yield "answer", "en", entry.answer.en
