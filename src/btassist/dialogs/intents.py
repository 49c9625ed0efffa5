"""The explicit table from what people type (sv/en) to the action they want."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import process
from rapidfuzz.distance import OSA

from btassist.common.text import fold
from btassist.dialogs import actions as a
from btassist.roster.models import Role


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


def exact_intent(text: str) -> a.Action | None:
    """The action a whole message names word for word ("vilka når du inte?"): surer than any
    sentence reading, whose folded words may collide ("når" and "när" both fold to "nar")."""
    found = _KEYWORDS.get(normalise(text))
    return None if found is None else found()


def match_intent(text: str) -> a.Action | None:
    """The action a whole message asks for, tolerating case, missing å/ä/ö and small typos."""
    wanted = normalise(text)
    if not wanted:
        return None
    found = _KEYWORDS.get(wanted)
    if found is None and len(wanted) >= MIN_FUZZY_LENGTH:
        # OSA distance counts a swapped pair of letters ("kruser") as one typo.
        typos = 2 if len(wanted) >= LONG_MESSAGE else 1
        best = process.extractOne(wanted, _KEYWORDS.keys(), scorer=OSA.distance, score_cutoff=typos)
        found = _KEYWORDS[best[0]] if best else None
    return None if found is None else found()


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


_COORDINATING = frozenset({Role.coordinator, Role.studierektor})
_SUPERVISING = frozenset({Role.supervisor})
_DOCTOR = frozenset({Role.doctor})
_MINE = phrases("jag, mig, min, mina, mitt, my, me, mine")
_WHO = phrases("vem, vilken, vilka, who, whos, kontakt*, contact*, mejl*, email")
_COURSE_WORDS = phrases("kurs*, course*, utbildning*")
_RULES = phrases(
    "hur ofta, hur manga, how often, how many, maste, must, behover man, vad ar, what is, "
    "what are, vad betyder, vad innebar"
)
"""Questions about the rules ("hur ofta görs DOPS?"), which the FAQ answers."""

# First match wins: the more specific request before the more general one.
CUES: tuple[Cue, ...] = (
    Cue(
        Want.new_calendar_link,
        (
            phrases("kalenderlank*, kalender lank*, lank*, link*, feed*, prenumeration*"),
            phrases(
                "ny, nya, nytt, byt*, andra, aterstall*, spridits, sprids, lackt, lackte, new, "
                "reset, regenerate, generate, change, replace, rotate, leaked"
            ),
        ),
    ),
    Cue(
        Want.withdraw,
        (
            phrases(
                "avanmal*, avboka*, ta bort * anmalan, ta bort min plats, stryk mig, hoppa av, "
                "kan inte ga, kan inte komma, kan inte delta, withdraw*, unenrol*, deregister*, "
                "cancel my, cancel * booking, cancel * place, cancel * seat, cant make it, "
                "can t make it, cannot make it, cannot attend, can t attend, drop out"
            ),
        ),
        roles=_DOCTOR,
    ),
    Cue(
        Want.participants,
        (
            phrases(
                "deltagar*, narvaro*, anmalda, anmalt, anmalts, participant*, attendance, "
                "attendee*, signed up, registered, enrolled"
            ),
        ),
        roles=_COORDINATING,
    ),
    Cue(
        Want.reports,
        (
            phrases(
                "obesvarade, obesvarad, fragor att besvara, vantar pa svar, inkomna fragor, "
                "open questions, unanswered, questions waiting"
            ),
        ),
        roles=_COORDINATING,
    ),
    Cue(
        Want.broadcast,
        (
            phrases(
                "skicka * meddelande, skicka meddelande, utskick, meddela alla, announcement, "
                "broadcast, send * message, send a message"
            ),
        ),
        roles=_COORDINATING,
    ),
    Cue(
        Want.trainees,
        (
            phrases(
                "mina bt lakare, mina lakare, lakare har jag, handleder jag, trainee*, adept*, "
                "my doctors, my bt doctors, do i supervise"
            ),
        ),
        roles=_SUPERVISING,
    ),
    Cue(
        Want.supervisor_guide,
        (
            phrases(
                "som handledare, som huvudhandledare, som bt handledare, ny handledare, "
                "as a supervisor, as supervisor, as a main supervisor, as main supervisor, "
                "new supervisor"
            ),
        ),
        roles=_SUPERVISING,
    ),
    Cue(
        Want.my_courses,
        (
            phrases(
                "jag anmald, ar jag anmald, mina anmalningar, mina bokningar, jag bokad, "
                "am i signed up, i signed up, am i enrolled, am i booked, my enrolments, "
                "my enrollments, my bookings"
            ),
        ),
    ),
    Cue(
        Want.assessments,
        (
            phrases("bedomning*, mini cex, minicex, dops, cbd, assessment*, kompetensvardering*"),
            (*_MINE, "visa", "show", "due"),
        ),
        unless=_RULES,
    ),
    Cue(
        Want.remaining,
        (
            phrases(
                "kvar, aterstar, aterstaende, saknar, saknas, left, remain, remains, remaining, "
                "still need, "
                "not done, inte gjort, inte gatt"
            ),
            _COURSE_WORDS,
        ),
    ),
    Cue(
        Want.courses,
        (
            phrases(
                "vilka kurser finns, vilka kurser erbjuds, vilka kurser kan, kurskatalog*, "
                "alla kurser, what courses can, which courses can, "
                "lista * kurser, lista kurserna, visa kurserna, what courses are there, "
                "which courses are there, what courses are offered, course list, "
                "list * courses, list courses, all courses, show * courses, course catalog*"
            ),
        ),
        unless=phrases("maste, must, obligatorisk*, mandatory"),
    ),
    Cue(
        Want.calendar,
        (
            phrases(
                "kalender*, calendar*, outlook, ical, ics, icalendar, prenumer*, subscri*, "
                "synk*, sync*, webcal"
            ),
        ),
    ),
    Cue(
        Want.contact,
        (_WHO, phrases("huvudhandledare*, main supervisor*"), _MINE),
        who="main_supervisor",
    ),
    Cue(Want.contact, (_WHO, phrases("handledare*, supervisor*"), _MINE), who="supervisor"),
    Cue(
        Want.contact,
        (_WHO, phrases("studierektor*, director of studies, director"), _MINE),
        who="studierektor",
    ),
    Cue(
        Want.contact,
        (_WHO, phrases("koordinator*, samordnare*, coordinator*"), _MINE),
        who="coordinator",
    ),
    Cue(
        Want.contact,
        (
            phrases(
                "vem ska jag kontakta, vem kan jag fraga, vem kontaktar jag, "
                "vem ska jag vanda mig till, vem vander jag mig till, vart vander jag mig, "
                "who should i contact, who can i ask, who do i contact, who do i ask"
            ),
        ),
        who="all",
    ),
    Cue(
        Want.enrol,
        (
            phrases(
                "anmal, anmala, anmaler, boka, bokar, sign up, sign me up, signup, enrol, "
                "enroll, register, book, join, vill ga, vilja ga, fa ga, vill delta, delta i, "
                "delta pa, "
                "vara med pa, plats pa, a place on, a seat on, like to take, want to take, attend"
            ),
        ),
        unless=_RULES,
    ),
    Cue(
        Want.sessions,
        (phrases("nar, when, whens, nasta, next, datum, dates, date, tillfalle*, schedule for"),),
    ),
    Cue(
        Want.show_course,
        (
            phrases(
                "berata om, tell me about, info om, information om, info about, "
                "information about, vad handlar, visa, show"
            ),
        ),
    ),
)

THANKS = phrases(
    "tack, tackar, tacksam, thanks, thank, thx, tnx, ty, hejda, hej da, adjo, bye, goodbye, "
    "vi ses, ha det bra"
)
POLITE = frozenset(
    phrases(
        "sa, mycket, tusen, for, hjalpen, hjalp, you, so, much, very, a, lot, toppen, perfekt, "
        "bra, great, super, fint, kanon, ok, okej, snallt, nice, the, help, det, var, vanligt, "
        "jattebra, grymt, ses, ha, da, hej"
    )
)
"""Words a thank-you or goodbye may hold besides the thanks itself."""
GREETINGS = frozenset(
    phrases(
        "hej, hejsan, halla, tja, tjena, tjenare, god, morgon, godmorgon, dag, goddag, kvall, dar, "
        "hello, hi, hey, there, good, morning, afternoon, evening"
    )
)
HELP_PHRASES = frozenset(
    phrases(
        "vad kan du, vad kan du gora, vad kan du hjalpa mig med, vad kan du hjalpa till med, "
        "vad kan du hjalpa med, hur kan du hjalpa mig, hur kan du hjalpa, vad gor du, "
        "vad kan jag gora har, jag behover hjalp, hjalp mig, visa menyn, visa meny, "
        "what can you do, what can you help with, what can you help me with, how can you help, "
        "how can you help me, what do you do, help me, show the menu, show menu, i need help"
    )
)
"""Whole messages (greetings aside) asking what the bot can do: the menu answers."""
LANGUAGE_WORDS = frozenset(
    phrases(
        "kan, du, svara, prata, tala, skriva, pa, byt, byta, till, sprak, spraket, please, tack, "
        "in, speak, can, you, switch, to, change, reply, answer, write, talk, language, jag, "
        "vill, ha, i, want, we, could, would, instead, istallet, hellre, annat, other"
    )
)
TOGGLE_LANGUAGE = phrases(
    "byt sprak, byta sprak, annat sprak, change language, switch language, other language"
)
CHATTER = frozenset(
    phrases(
        "ok, okej, okay, oki, k, jaha, aha, ahh, hmm, hm, mm, mhm, lol, haha, hehe, test, testar, "
        "testing, ja, nej, yes, no, nope, nja, typ, fine, whatever, bla, blah"
    )
)
"""Words that on their own say nothing to act on ("ok", "hmm", "test")."""
