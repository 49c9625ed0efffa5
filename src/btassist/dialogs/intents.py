"""The explicit table from what people type (sv/en) to what they want."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import process
from rapidfuzz.distance import OSA

from btassist.common.text import fold
from btassist.roster.models import Role


class Intent(StrEnum):
    """Something a person can ask the bot to do; also the verb of card buttons."""

    help = "help"
    courses = "courses"
    my_courses = "my_courses"
    calendar = "calendar"
    calendar_link = "calendar_link"
    assessments = "assessments"
    ask = "ask"
    my_trainees = "my_trainees"
    broadcast = "broadcast"
    reports = "reports"
    english = "english"
    swedish = "swedish"
    # Buttons (and commands with an argument, such as "deltagare försäkringsmedicin"):
    course = "course"
    enrol = "enrol"
    withdraw = "withdraw"
    report_done = "report_done"
    participants = "participants"
    attendance_form = "attendance_form"
    attendance = "attendance"
    # FAQ buttons: a suggested topic, a vote, "ask a person", a coordinator's "reply".
    faq_topic = "faq_topic"
    faq_vote = "faq_vote"
    faq_forward = "faq_forward"
    faq_reply = "faq_reply"


@dataclass(frozen=True)
class IntentSpec:
    """Keywords (whole messages, Swedish and English) and who may use the intent."""

    keywords: tuple[str, ...]
    roles: frozenset[Role] | None = None  # None: everyone in the roster


INTENTS: dict[Intent, IntentSpec] = {
    Intent.help: IntentSpec(
        ("hjälp", "meny", "menyn", "hej", "hallå", "start", "help", "menu", "hi", "hello", "?")
    ),
    Intent.courses: IntentSpec(
        (
            "kurser",
            "kurs",
            "kurskatalog",
            "obligatoriska kurser",
            "courses",
            "course",
            "course catalogue",
            "mandatory courses",
        )
    ),
    Intent.my_courses: IntentSpec(
        ("mina kurser", "mina anmälningar", "my courses", "my enrolments", "my enrollments")
    ),
    Intent.calendar: IntentSpec(
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
        )
    ),
    Intent.calendar_link: IntentSpec(
        (
            "ny kalenderlänk",
            "ny kalender länk",
            "byt kalenderlänk",
            "ny länk",
            "new calendar link",
            "reset calendar link",
            "new link",
        )
    ),
    Intent.assessments: IntentSpec(
        ("bedömningar", "bedömning", "mini-cex", "dops", "cbd", "assessments", "assessment")
    ),
    Intent.ask: IntentSpec(
        (
            "ställ en fråga",
            "fråga",
            "frågor",
            "kontakter",
            "ask a question",
            "question",
            "questions",
            "contacts",
        )
    ),
    Intent.my_trainees: IntentSpec(
        ("mina bt-läkare", "mina läkare", "my bt doctors", "my trainees", "my doctors"),
        frozenset({Role.supervisor}),
    ),
    Intent.broadcast: IntentSpec(
        ("skicka meddelande", "utskick", "send announcement", "announcement", "broadcast"),
        frozenset({Role.coordinator, Role.studierektor}),
    ),
    Intent.reports: IntentSpec(
        ("rapporter", "rapport", "reports", "report"),
        frozenset({Role.coordinator, Role.studierektor}),
    ),
    Intent.english: IntentSpec(("english", "in english", "engelska", "på engelska")),
    Intent.swedish: IntentSpec(("svenska", "på svenska", "swedish", "in swedish")),
}

COORDINATORS = frozenset({Role.coordinator, Role.studierektor})
DOCTORS = frozenset({Role.doctor})
INTENTS.update(
    {
        Intent.course: IntentSpec(()),
        Intent.enrol: IntentSpec((), DOCTORS),
        Intent.withdraw: IntentSpec((), DOCTORS),
        Intent.report_done: IntentSpec((), DOCTORS),
        Intent.participants: IntentSpec(("deltagare", "participants"), COORDINATORS),
        Intent.attendance_form: IntentSpec((), COORDINATORS),
        Intent.attendance: IntentSpec((), COORDINATORS),
        Intent.faq_topic: IntentSpec(()),
        Intent.faq_vote: IntentSpec(()),
        Intent.faq_forward: IntentSpec(()),
        Intent.faq_reply: IntentSpec((), COORDINATORS),
    }
)
# Typed commands whose rest is an argument: "deltagare försäkringsmedicin", "kurs stas".
COMMANDS: dict[str, Intent] = {
    "deltagare": Intent.participants,
    "participants": Intent.participants,
    "kurs": Intent.course,
    "course": Intent.course,
    "anmal": Intent.course,
    "enrol": Intent.course,
}

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
MIN_FUZZY_LENGTH = 4  # shorter messages must match exactly: "cbd" is not "cv"
LONG_MESSAGE = 8  # from this length two typos are forgiven, below it one


def normalise(text: str) -> str:
    """Lower case, no å/ä/ö, no punctuation or filler words, single spaces."""
    words = fold(text).split()
    kept = [word for word in words if word not in FILLER]
    return " ".join(kept or words)


_KEYWORDS: dict[str, Intent] = {
    normalise(keyword): intent for intent, spec in INTENTS.items() for keyword in spec.keywords
}


def match_intent(text: str) -> Intent | None:
    """The intent a whole message asks for, tolerating case, missing å/ä/ö and small typos."""
    wanted = normalise(text)
    if not wanted:
        return None
    if wanted in _KEYWORDS:
        return _KEYWORDS[wanted]
    if len(wanted) < MIN_FUZZY_LENGTH:
        return None
    # OSA distance counts a swapped pair of letters ("kruser") as one typo.
    typos = 2 if len(wanted) >= LONG_MESSAGE else 1
    best = process.extractOne(wanted, _KEYWORDS.keys(), scorer=OSA.distance, score_cutoff=typos)
    return _KEYWORDS[best[0]] if best else None


def match_command(text: str) -> tuple[Intent, str] | None:
    """A command word followed by an argument, e.g. ("participants", "försäkringsmedicin")."""
    first, _, rest = text.strip().partition(" ")
    intent = COMMANDS.get(fold(first))
    return (intent, rest.strip()) if intent and rest.strip() else None


def allowed(intent: Intent, roles: frozenset[Role]) -> bool:
    """Whether someone with `roles` may use `intent`."""
    needed = INTENTS[intent].roles
    return needed is None or bool(needed & roles)
