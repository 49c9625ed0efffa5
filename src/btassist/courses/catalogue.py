"""Course catalogues in YAML: reading them and checking every course, each problem by file and line.

A catalogue is a mapping with one key, `courses`, holding a list of courses:

    courses:
      - code: halland-forsakringsmedicin       # stable, lower case, region first
        kind: kurs                             # kurs, seminarium, temadag, webbkurs,
                                               # schemalagd_undervisning
        title: {sv: Försäkringsmedicin AT/BT, en: Insurance medicine (AT/BT)}
        description: {sv: …, en: …}            # optional
        provider: SKR                          # optional
        hours: 4                               # optional: one occasion (a weekly series: a week)
        link: https://…                        # optional: where a web course is taken
        source: S4                             # optional: where the facts come from
        regions: {halland: mandatory}          # mandatory or optional, per region offering it
        active: true                           # optional; false retires the course

Line numbers come from the YAML node tree (`yaml.compose`), so each problem points at the line a
coordinator has to fix rather than at the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from btassist.courses.models import CourseKind

MAX_FILE_BYTES = 5 * 1024 * 1024
CODE_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_CODE = 80
MAX_TEXT = 200
MAX_LINK = 500
KIND_ALIASES: dict[str, CourseKind] = {
    **{kind.value: kind for kind in CourseKind},
    "schemalagd undervisning": CourseKind.schemalagd_undervisning,
}
MANDATORY_WORDS = {"mandatory": True, "obligatorisk": True, "optional": False, "frivillig": False}
COURSE_FIELDS = (
    "code",
    "kind",
    "title",
    "description",
    "provider",
    "hours",
    "link",
    "source",
    "regions",
    "active",
)
LANGUAGES = ("sv", "en")
NULL_TAG = "tag:yaml.org,2002:null"
NUMBER_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})
BOOL_TAG = "tag:yaml.org,2002:bool"


class CourseFileError(ValueError):
    """A course file as a whole cannot be read: missing, not UTF-8, not YAML, a bad header."""


@dataclass(frozen=True, order=True)
class FileProblem:
    """Why one line of a course file cannot be imported."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True)
class CatalogueDocument:
    """A YAML catalogue read into its node tree, and the name its problems are reported under."""

    name: str
    root: Node | None


@dataclass(frozen=True)
class CourseRecord:
    """A valid course of a catalogue; `regions` maps each offering region to mandatory-or-not."""

    file: str
    line: int
    code: str
    kind: CourseKind
    title_sv: str
    title_en: str
    description_sv: str
    description_en: str
    provider: str
    hours: float | None
    link: str | None
    source: str
    regions: dict[str, bool]
    active: bool


def parse_catalogue_bytes(raw: bytes, *, name: str) -> CatalogueDocument:
    """A YAML catalogue from its bytes (a file on disk or one sent to the bot)."""
    if len(raw) > MAX_FILE_BYTES:
        raise CourseFileError(f"{name} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CourseFileError(f"{name} is not UTF-8 (byte {error.start})") from error
    return parse_catalogue(text, name=name)


def parse_catalogue(text: str, *, name: str) -> CatalogueDocument:
    """Parse catalogue text into its node tree, keeping line numbers."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise CourseFileError(f"{name}{line}: not valid YAML: {error.problem}") from error
    except yaml.YAMLError as error:
        raise CourseFileError(f"{name}: not valid YAML: {error}") from error
    return CatalogueDocument(name=name, root=root)


def bundled_catalogue() -> list[CatalogueDocument]:
    """The catalogue shipped in the package, one file per region (see `catalogue/*.yaml`)."""
    folder = resources.files("btassist.courses").joinpath("catalogue")
    files = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".yaml")),
        key=lambda entry: entry.name,
    )
    return [
        parse_catalogue(entry.read_text("utf-8"), name=f"catalogue/{entry.name}") for entry in files
    ]


def check_catalogues(
    documents: list[CatalogueDocument], regions: set[str]
) -> tuple[list[CourseRecord], list[FileProblem]]:
    """Validate catalogues against the known regions; a code may appear once across them all."""
    problems: list[FileProblem] = []
    records: list[CourseRecord] = []
    first_seen: dict[str, str] = {}  # code → file:line
    for document in documents:
        report = _Report(document.name, problems)
        for node in _course_nodes(document, report):
            code, record = _course(node, report, regions)
            if code in first_seen:
                where = first_seen[code]
                report.add(node, f"duplicate course code {code} (also at {where})")
            elif code:
                first_seen[code] = f"{document.name}:{node.start_mark.line + 1}"
                if record is not None:
                    records.append(record)
    return records, sorted(problems)


class _Report:
    """Collects problems for one file."""

    def __init__(self, file: str, problems: list[FileProblem]) -> None:
        self.file = file
        self.problems = problems

    def add(self, node: Node | None, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        self.problems.append(FileProblem(self.file, line, message))


def _course_nodes(document: CatalogueDocument, report: _Report) -> list[MappingNode]:
    root = document.root
    if root is None:
        report.add(None, "the file is empty; expected `courses:` followed by a list of courses")
        return []
    if not isinstance(root, MappingNode):
        report.add(root, "expected a mapping with the key `courses`")
        return []
    fields = _Fields(root, report, allowed=("courses",), label="")
    courses = fields.values.get("courses")
    if courses is None:
        report.add(root, "`courses:` is missing")
        return []
    if _is_null(courses):
        return []
    if not isinstance(courses, SequenceNode):
        report.add(courses, "`courses` must be a list (each course starts with `- code: …`)")
        return []
    nodes = []
    for item in courses.value:
        if isinstance(item, MappingNode):
            nodes.append(item)
        else:
            report.add(item, "each course must be a mapping of fields (code, kind, title, …)")
    return nodes


def _course(
    node: MappingNode, report: _Report, regions: set[str]
) -> tuple[str, CourseRecord | None]:
    fields = _Fields(node, report, allowed=COURSE_FIELDS, label="")
    code = fields.text("code")
    if code and (len(code) > MAX_CODE or not CODE_PATTERN.fullmatch(code)):
        fields.fail(
            "code",
            f"code {code!r} must be lower-case letters, digits and single dashes "
            f"(at most {MAX_CODE}), e.g. halland-forsakringsmedicin",
        )
    kind_text = fields.text("kind").lower()
    kind = KIND_ALIASES.get(kind_text)
    if kind_text and kind is None:
        valid = ", ".join(k.value for k in CourseKind)
        fields.fail("kind", f"unknown kind {kind_text!r} (valid: {valid})")
    title = fields.bilingual("title", required=True)
    description = fields.bilingual("description", required=False)
    provider = fields.text("provider", required=False, max_length=MAX_TEXT)
    hours = fields.number("hours")
    link = fields.link("link")
    source = fields.text("source", required=False, max_length=MAX_TEXT)
    offered = fields.regions("regions", regions)
    active = fields.flag("active", default=True)
    if not fields.ok or kind is None:
        return code, None
    return code, CourseRecord(
        file=report.file,
        line=node.start_mark.line + 1,
        code=code,
        kind=kind,
        title_sv=title["sv"],
        title_en=title["en"],
        description_sv=description["sv"],
        description_en=description["en"],
        provider=provider,
        hours=hours,
        link=link,
        source=source,
        regions=offered,
        active=active,
    )


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == NULL_TAG


def _scalar_value(node: ScalarNode) -> Any:
    return SafeConstructor().construct_object(node, deep=True)


class _Fields:
    """The fields of one YAML mapping; each read notes a problem where a field is missing or bad."""

    def __init__(
        self, node: MappingNode, report: _Report, *, allowed: tuple[str, ...], label: str
    ) -> None:
        self.node = node
        self.report = report
        self.label = label
        self.ok = True
        self.values: dict[str, Node] = {}
        try:
            SafeConstructor().flatten_mapping(node)  # `<<: *defaults` merges, as PyYAML does
        except yaml.constructor.ConstructorError as error:
            self._add(node, f"bad merge key (<<): {error.problem}")
        lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str):
                self._add(key_node, "field names must be plain words")
            elif key in self.values:
                self._add(key_node, f"{self.label}{key} appears twice (first at line {lines[key]})")
            elif key not in allowed:
                self._add(
                    key_node, f"unknown field {self.label + key!r} (valid: {', '.join(allowed)})"
                )
            else:
                self.values[key] = value_node
                lines[key] = key_node.start_mark.line + 1

    def _add(self, node: Node, message: str) -> None:
        self.report.add(node, message)
        self.ok = False

    def fail(self, name: str, message: str) -> None:
        """Note a problem at the field's line (or the mapping's, when the field is absent)."""
        self._add(self.values.get(name, self.node), message)

    def _present(self, name: str) -> Node | None:
        node = self.values.get(name)
        return None if node is None or _is_null(node) else node

    def text(self, name: str, *, required: bool = True, max_length: int | None = None) -> str:
        node = self._present(name)
        if node is None:
            if required:
                self.fail(name, f"{self.label}{name} is missing")
            return ""
        if not isinstance(node, ScalarNode):
            self.fail(name, f"{self.label}{name} must be text")
            return ""
        value = str(node.value).strip()
        if required and not value:
            self.fail(name, f"{self.label}{name} is empty")
        if max_length is not None and len(value) > max_length:
            self.fail(name, f"{self.label}{name} is longer than {max_length} characters")
        return value

    def bilingual(self, name: str, *, required: bool) -> dict[str, str]:
        """A `{sv: …, en: …}` pair; both languages are needed when the field is."""
        empty = dict.fromkeys(LANGUAGES, "")
        node = self._present(name)
        if node is None:
            if required:
                self.fail(name, f"{name} is missing (give it as {{sv: …, en: …}})")
            return empty
        if not isinstance(node, MappingNode):
            self.fail(name, f"{name} must have a Swedish and an English text: {{sv: …, en: …}}")
            return empty
        inner = _Fields(node, self.report, allowed=LANGUAGES, label=f"{name}.")
        limit = MAX_TEXT if name == "title" else None
        texts = {
            language: inner.text(language, required=required, max_length=limit)
            for language in LANGUAGES
        }
        self.ok = self.ok and inner.ok
        return texts

    def number(self, name: str) -> float | None:
        node = self._present(name)
        if node is None:
            return None
        if not isinstance(node, ScalarNode) or node.tag not in NUMBER_TAGS:
            self.fail(name, f"{name} must be a number of hours, or null when not known")
            return None
        value = float(_scalar_value(node))
        if not value > 0:
            self.fail(name, f"{name} must be more than 0")
            return None
        return value

    def link(self, name: str) -> str | None:
        value = self.text(name, required=False, max_length=MAX_LINK)
        if value and (not value.startswith(("https://", "http://")) or " " in value):
            self.fail(name, f"{name} {value!r} must be a web address starting with https://")
        return value or None

    def flag(self, name: str, *, default: bool) -> bool:
        node = self._present(name)
        if node is None:
            return default
        if not isinstance(node, ScalarNode) or node.tag != BOOL_TAG:
            self.fail(name, f"{name} must be true or false")
            return default
        return bool(_scalar_value(node))

    def regions(self, name: str, known: set[str]) -> dict[str, bool]:
        """Region code → mandatory; at least one region must offer the course."""
        node = self._present(name)
        if node is None:
            self.fail(name, f"{name} is missing (e.g. `regions: {{halland: mandatory}}`)")
            return {}
        if not isinstance(node, MappingNode) or not node.value:
            self.fail(name, f"{name} must map region codes to mandatory or optional")
            return {}
        offered: dict[str, bool] = {}
        for key_node, value_node in node.value:
            region = str(key_node.value).strip().lower()
            word = str(value_node.value).strip().lower()
            if region in offered:
                self._add(key_node, f"region {region} appears twice")
            elif region not in known:
                valid = ", ".join(sorted(known))
                self._add(key_node, f"unknown region {region!r} (valid: {valid})")
            elif not isinstance(value_node, ScalarNode) or word not in MANDATORY_WORDS:
                self._add(value_node, f"{region}: {word!r} must be mandatory or optional")
            else:
                offered[region] = MANDATORY_WORDS[word]
        return offered
