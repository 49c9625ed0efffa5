"""The explicit table from what people type (sv/en) to the action they want: whole-message
keywords and commands here, the phrase families of sentences in i18n/phrases.yaml."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any

import yaml
from rapidfuzz import process
from rapidfuzz.distance import OSA

from btassist.common.text import fold
from btassist.dialogs import actions as a
from btassist.roster.models import Role

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class IntentSpec:
    """The whole messages (Swedish and English) that ask for an action without arguments."""

    action: Callable[[], a.Action]
    keywords: tuple[str, ...]


INTENTS: tuple[IntentSpec, ...] = (
    IntentSpec(
        a.Help, ("hjälp", "meny", "menyn", "hej", "hallå", "start", "help", "menu", "hi", "hello")
    ),
    IntentSpec(
        a.Courses,
        (
            "kurser",
            "kurs",
            "kurskatalog",
            "obligatoriska kurser",
            "courses",
            "course",
            "course catalogue",
            "mandatory courses",
        ),
    ),
    IntentSpec(
        a.MyCourses,
        ("mina kurser", "mina anmälningar", "my courses", "my enrolments", "my enrollments"),
    ),
    IntentSpec(
        a.Calendar,
        (
            "kalender",
            "kalendern",
            "schema",
            "placeringar",
            "mina placeringar",
            "calendar",
            "schedule",
            "placements",
            "my placements",
            "kalenderlänk",
            "kalenderprenumeration",
            "prenumerera",
            "calendar link",
            "calendar feed",
            "subscribe",
            "ical",
        ),
    ),
    IntentSpec(
        a.NewCalendarLink,
        (
            "ny kalenderlänk",
            "ny kalender länk",
            "byt kalenderlänk",
            "new calendar link",
            "reset calendar link",
        ),
    ),
    IntentSpec(
        a.Assessments,
        ("bedömningar", "bedömning", "mini-cex", "dops", "cbd", "assessments", "assessment"),
    ),
    IntentSpec(
        a.Ask,
        (
            "ställ en fråga",
            "fråga",
            "frågor",
            "kontakter",
            "ask a question",
            "question",
            "questions",
            "contacts",
        ),
    ),
    IntentSpec(
        a.MyTrainees,
        ("mina bt-läkare", "mina läkare", "my bt doctors", "my trainees", "my doctors"),
    ),
    IntentSpec(
        a.Broadcast,
        ("skicka meddelande", "utskick", "send announcement", "announcement", "broadcast"),
    ),
    IntentSpec(a.Reports, ("rapporter", "rapport", "reports", "report")),
    IntentSpec(a.Participants, ("deltagare", "närvaro", "participants", "attendance")),
    IntentSpec(a.English, ("english", "in english", "engelska", "på engelska")),
    IntentSpec(a.Swedish, ("svenska", "på svenska", "swedish", "in swedish")),
    # Reminders
    IntentSpec(
        a.PauseReminders,
        ("pausa påminnelser", "pausa", "stoppa påminnelser", "stop reminders", "pause reminders"),
    ),
    IntentSpec(
        a.ResumeReminders,
        ("återuppta påminnelser", "återuppta", "resume reminders", "start reminders"),
    ),
    # Reach and privacy (issues 16 and 13)
    IntentSpec(
        a.WhoIsUnreachable,
        (
            "vilka når du inte",
            "vem når du inte",
            "vilka kan du inte nå",
            "vilka når inte boten",
            "who can't you reach",
            "who cannot you reach",
            "who can you not reach",
            "unreachable",
        ),
    ),
    IntentSpec(
        a.MyData,
        (
            "mina uppgifter",
            "mina personuppgifter",
            "vad vet du om mig",
            "exportera mina uppgifter",
            "my data",
            "my personal data",
            "export my data",
            "what do you know about me",
        ),
    ),
    IntentSpec(
        a.EraseMyData,
        (
            "radera mina uppgifter",
            "radera mina personuppgifter",
            "ta bort mina uppgifter",
            "glöm mig",
            "erase my data",
            "delete my data",
            "forget me",
        ),
    ),
    # the coordinator's desk (issue 15)
    IntentSpec(
        a.Overview,
        ("översikt", "översikten", "kohortöversikt", "kohort", "overview", "cohort overview"),
    ),
    IntentSpec(
        a.DeskFiles,
        (
            "excel",
            "excelfiler",
            "excel-filer",
            "filer",
            "exportera",
            "importera",
            "excel files",
            "files",
            "export",
            "import",
        ),
    ),
    IntentSpec(
        a.ExportRoster,
        ("exportera roster", "exportera rostern", "exportera personer", "export roster"),
    ),
    IntentSpec(
        a.ExportSessions,
        (
            "exportera kurstillfällen",
            "exportera tillfällen",
            "export sessions",
            "export course sessions",
        ),
    ),
    IntentSpec(
        a.ExportPlans,
        ("exportera bedömningar", "exportera planer", "export assessments", "export plans"),
    ),
    IntentSpec(a.ExportParticipants, ("exportera deltagare", "export participants")),
    IntentSpec(a.ExportOverview, ("exportera översikt", "exportera översikten", "export overview")),
)

CANCEL_WORDS = frozenset({"avbryt", "cancel", "angra", "stopp", "stop", "nej tack", "no thanks"})
YES_WORDS = frozenset({"ja", "japp", "ja tack", "yes", "ok", "okej", "okay", "sure", "gör det"})
NO_WORDS = frozenset({"nej", "no", "nope"}) | CANCEL_WORDS

# Typed commands whose rest is an argument: "deltagare försäkringsmedicin", "kurs stas".
COMMANDS: dict[str, type[a.ShowCourse] | type[a.Participants] | type[a.ExportParticipants]] = {
    "deltagare": a.Participants,
    "participants": a.Participants,
    "narvaro": a.Participants,
    "attendance": a.Participants,
    "kurs": a.ShowCourse,
    "course": a.ShowCourse,
    # the coordinator's desk (issue 15): two-word commands
    "exportera deltagare": a.ExportParticipants,
    "export participants": a.ExportParticipants,
}
# ("anmäl …" is a sentence request: dialogs/understanding.py reads the course and the time.)

# Words that carry no intent of their own ("visa mina kurser tack" = "mina kurser").
FILLER = frozenset(
    {
        "visa",
        "öppna",
        "tack",
        "snälla",
        "kan",
        "du",
        "jag",
        "vill",
        "se",
        "show",
        "open",
        "please",
        "pls",
        "thanks",
        "can",
        "you",
        "i",
        "want",
        "to",
        "the",
        "me",
        "see",
    }
)
_FILLER = frozenset(fold(word) for word in FILLER)
MIN_FUZZY_LENGTH = 4  # shorter messages must match exactly: "cbd" is not "cv"
LONG_MESSAGE = 8  # from this length two typos are forgiven, below it one


def normalise(text: str) -> str:
    """Lower case, no diacritics, no punctuation or filler words, single spaces."""
    words = fold(text).replace("?", " ").split()
    kept = [word for word in words if word not in _FILLER]
    return " ".join(kept or words)


_KEYWORDS: dict[str, Callable[[], a.Action]] = {
    normalise(keyword): spec.action for spec in INTENTS for keyword in spec.keywords
}


def sets_filler_aside(text: str) -> bool:
    """Whether `normalise` leaves words of the text out."""
    return len(normalise(text).split()) < len(fold(text).replace("?", " ").split())


def exact_intent(text: str) -> a.Action | None:
    """The action a whole message names word for word ("vilka når du inte?"): surer than any
    sentence reading, whose folded words may collide ("når" and "när" both fold to "nar")."""
    found = _KEYWORDS.get(normalise(text))
    return None if found is None else found()


def match_intent(text: str) -> a.Action | None:
    """The action a whole message asks for, tolerating case, missing å/ä/ö and small typos."""
    exact = exact_intent(text)
    if exact is not None:
        return exact
    wanted = normalise(text)
    if len(wanted) < MIN_FUZZY_LENGTH:
        return None
    # OSA distance counts a swapped pair of letters ("kruser") as one typo.
    typos = 2 if len(wanted) >= LONG_MESSAGE else 1
    best = process.extractOne(wanted, _KEYWORDS.keys(), scorer=OSA.distance, score_cutoff=typos)
    return _KEYWORDS[best[0]]() if best else None


def match_command(text: str) -> a.ShowCourse | a.Participants | a.ExportParticipants | None:
    """A command (one or two words) followed by an argument, e.g.
    Participants(query="försäkringsmedicin"); the longer command wins."""
    words = text.strip().split(maxsplit=2)
    for size in (2, 1):
        command = COMMANDS.get(fold(" ".join(words[:size]))) if len(words) > size else None
        if command is not None:
            argument = " ".join(words[size:]).strip()[:200]
            return command(query=argument) if argument else None
    return None


def understand(text: str) -> a.Action | None:
    """The action typed text asks for: a whole-message intent, or a command with an argument."""
    return match_intent(text) or match_command(text)


def says(text: str, words: frozenset[str]) -> bool:
    """Whether the whole message is one of `words` (case, diacritics and "tack" forgiven)."""
    return normalise(text) in {normalise(word) for word in words}


# --- one-sentence requests (dialogs/understanding.py) -----------------------------------------


class Want(StrEnum):
    """What a sentence asks for, before its course and time are looked up."""

    enrol = "enrol"
    withdraw = "withdraw"
    sessions = "sessions"
    remaining = "remaining"
    courses = "courses"
    my_courses = "my_courses"
    calendar = "calendar"
    new_calendar_link = "new_calendar_link"
    assessments = "assessments"
    contact = "contact"
    trainees = "trainees"
    supervisor_guide = "supervisor_guide"
    participants = "participants"
    reports = "reports"
    broadcast = "broadcast"
    help = "help"
    show_course = "show_course"


def phrases(text: str) -> tuple[str, ...]:
    """Comma-separated folded phrases: `x*` is any word beginning with x, a lone `*` any word."""
    return tuple(" ".join(phrase.split()) for phrase in text.split(","))


@dataclass(frozen=True)
class Cue:
    """A sentence asks for `want` when it holds a phrase of every group and none of `unless`.

    `who` names the contact asked for; `roles` limits who is understood this way.
    """

    want: Want
    groups: tuple[tuple[str, ...], ...]
    unless: tuple[str, ...] = ()
    roles: frozenset[Role] | None = None
    who: str | None = None
    weak: bool = False
    """Only with a course named: a hint ("plats", "drop"), not a request on its own."""


ROLE_GROUPS: dict[str, frozenset[Role]] = {
    "doctor": frozenset({Role.doctor}),
    "supervising": frozenset({Role.supervisor}),
    "coordinating": frozenset({Role.coordinator, Role.studierektor}),
    "staff": frozenset({Role.supervisor, Role.coordinator, Role.studierektor}),
}


def _load_phrases() -> tuple[dict[str, tuple[str, ...]], tuple[Cue, ...]]:
    """The phrase families and the cue table of i18n/phrases.yaml."""
    text = resources.files("btassist.i18n").joinpath("phrases.yaml").read_text("utf-8")
    raw = yaml.load(text, Loader=_LOADER)
    families = {name: phrases(value) for name, value in raw["families"].items()}
    cues = tuple(
        Cue(
            want=Want(cue["want"]),
            groups=tuple(families[name] for name in cue["all"]),
            unless=tuple(phrase for name in cue.get("unless", ()) for phrase in families[name]),
            roles=ROLE_GROUPS[cue["roles"]] if "roles" in cue else None,
            who=cue.get("who"),
            weak=cue.get("weak", False),
        )
        for cue in raw["cues"]
    )
    return families, cues


FAMILIES, CUES = _load_phrases()
"""What people type for each request (first cue that matches wins)."""
THANKS = FAMILIES["thanks"]
POLITE = frozenset(FAMILIES["polite"])
"""Words a thank-you or goodbye may hold besides the thanks itself."""
GREETINGS = frozenset(FAMILIES["greetings"])
HELP_PHRASES = frozenset(FAMILIES["help_whole"])
"""Whole messages (greetings aside) asking what the bot can do: the menu answers."""
LANGUAGE_WORDS = frozenset(FAMILIES["language_filler"])
TOGGLE_LANGUAGE = FAMILIES["toggle_language"]
CHATTER = frozenset(FAMILIES["chatter"])
"""Words that on their own say nothing to act on ("ok", "hmm", "test")."""
