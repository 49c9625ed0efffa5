"""One-sentence requests: from "anmäl mig till försäkringsmedicin i mars" to the action it asks for.

A sentence is read in three steps, all without the database: a time phrase is taken out
(dialogs/when.py), the cue table (phrase families of i18n/phrases.yaml, read by dialogs/intents.py)
says what is wanted, and what is left names the course. Phrase words match their inflected forms
(simplemma lemmas) and typos of them are repaired; words that only soften ("gärna", "please") are
set aside. `read` does the first two; `resolve` looks the course up among the region's courses,
by a course mentioned anywhere in the words left (courses/mentions.py: "palliationsdagen",
"introt") or by its closest whole name: one course is the typed action itself, several are a
choice to offer (unless one is named in full and the sentence is not about several), none are
the closest to offer, as is a course only other regions give. Words of a course's name
("schemalagd undervisning") are never request words. A weak cue (one word that leans to a request,
"plats", "drop") is that request only with a course named; a course with a time and no request
word asks for its sessions; questions about rules ("måste …", "hur … man", "om jag …") and
about BT itself ("kan man göra BT två gånger", unlike "BT-dagen") are left to the FAQ; "the
course" in a region with one is that one. Thanks, greetings, "help" and language switches are
whole messages (a short message that opens with thanks is thanks, the language refused is not
the one wanted); text no vocabulary knows ("asdkjh qwe", "ok") is `Meaningless`, never a
question for a person. Anything else is left to the FAQ (None).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA, Indel

from btassist.common.language import Language
from btassist.common.text import fold
from btassist.courses.mentions import (
    NEVER_ALONE,
    named_by_every_word,
    named_in_full,
    spot_courses,
)
from btassist.courses.models import Course, CourseKind
from btassist.courses.overview import match_courses, scored_courses
from btassist.dialogs import actions as a
from btassist.dialogs import intents
from btassist.dialogs.intents import CUES, Cue, Want
from btassist.dialogs.when import Window, prepare, read_time
from btassist.faq.morphology import lemma_en, lemma_sv
from btassist.faq.text import PLACE_NAMES, QUESTION_WORDS, STOPWORDS, regions_named
from btassist.roster.models import Role

CONTACT_ENTRIES = {
    "supervisor": "contact-supervisor",
    "main_supervisor": "contact-main-supervisor",
    "studierektor": "contact-studierektor",
    "coordinator": "contact-coordinator",
    "all": "contact-all",
}
"""The FAQ's "who is my …" entries, answered from the asker's roster contacts."""
SUPERVISOR_GUIDE = "supervisor-role"
"""The FAQ entry on what a handledare does, with a button to their BT doctors."""

BARE_COURSE = 88.0
"""A message that is only a course's name (no request, no question) must name it this closely."""
CLOSEST = 3
TYPO_MIN = 5
TYPO_TWO = 9
MIN_LEMMA = 4
"""Phrase words shorter than this match only themselves."""
THANKS_WORDS = 8
"""A message this short with thanks in it and no request or question is a thank-you."""

_COURSE_MENTIONS = ("kurs", "course", "temadag", "theme", "seminari", "utbildning", "traff")
"""Parts of words that say a course is meant ("strålskyddskursen", "theme day")."""
_FILLER = frozenset(fold(word) for word in intents.FILLER)
_NOT_COURSE_NAME = (
    _FILLER
    | frozenset(intents.FAMILIES["not_course_name"])
    | STOPWORDS
    | QUESTION_WORDS
    | PLACE_NAMES
)
"""Words that never name a course: what is left of a sentence after them is the course. (The
region's name is no part of it: only the asker's region's courses are looked at, and their codes
begin with it.)"""
_BOOKED = frozenset({Want.enrol, Want.withdraw, Want.sessions, Want.participants})
"""Requests about sessions: a web course (no sessions) is not what they mean when another is."""
_STRONG = frozenset({Want.enrol, Want.withdraw})
"""Commands that name a course for sure: no match is "no such course", not a question."""
_ABOUT_A_COURSE = frozenset({Want.sessions, Want.show_course})
"""Questions about a course: one about BT itself is the FAQ's."""


@dataclass(frozen=True)
class Request:
    """What a sentence wants, the words that name its course, and its time."""

    want: Want
    course_words: str = ""
    window: Window | None = None
    mention_words: tuple[str, ...] = ()
    """The words that may mention a course anywhere (place names kept: "Nässjö-introt")."""
    who: str | None = None
    mentions_course: bool = False
    bare: bool = False
    """No request word at all: only a course's (close) name makes it one."""
    weak: bool = False
    """Only a hint of a request ("plats", "drop"): it needs a course named to be one."""
    several: bool = False
    """About several courses ("both courses"): every course it names, not the one named in full."""
    about_bt: bool = False
    """BT itself is named ("kan man göra BT två gånger"): only a course named besides is one."""


@dataclass(frozen=True)
class Act:
    """The sentence is this action."""

    action: a.Action


@dataclass(frozen=True)
class Choose:
    """Several courses fit: ask which, each button the same request for one course."""

    actions: tuple[tuple[Course, a.Action], ...]


@dataclass(frozen=True)
class NoCourse:
    """No course has that name: offer the closest, each button the same request."""

    words: str
    closest: tuple[tuple[Course, a.Action], ...]


@dataclass(frozen=True)
class Meaningless:
    """Nothing to act on and no question: "not understood" and the menu."""


Interpretation = Act | Choose | NoCourse | Meaningless
Knows = Callable[[str], bool]


def interpret(
    text: str,
    *,
    roles: frozenset[Role],
    language: Language,
    today: date,
    courses: Sequence[Course],
    knows: Knows,
    spelled: Knows | None = None,
    catalogue: Sequence[Course] = (),
) -> Interpretation | None:
    """The request a sentence makes, resolved against the region's courses (None: the FAQ's);
    a course only other regions of the `catalogue` offer is no course here."""
    found = read(text, roles=roles, language=language, today=today, knows=knows, spelled=spelled)
    if isinstance(found, Request):
        return resolve(found, roles=roles, courses=courses, elsewhere=catalogue)
    return found


def read(
    text: str,
    *,
    roles: frozenset[Role],
    language: Language,
    today: date,
    knows: Knows,
    spelled: Knows | None = None,
) -> Request | Act | Meaningless | None:
    """What a sentence asks for, before any course is looked up: a whole-message keyword
    ("kurser") or command ("kurs stas") of the intent table first, then the sentence. `knows`
    says whether the FAQ knows a word (or a typo of one), `spelled` whether it knows the word
    as typed (by default `knows`): only a word it spells is no typo of a request word."""
    prepared = prepare(text)
    time = read_time(prepared, today=today)
    if time is not None:
        start, end = time.span
        prepared = f"{prepared[:start]} {prepared[end:]}"
    about_bt = _names_bt_itself(prepared)
    words = _compounds_apart(_words(prepared))
    if not words:
        return Meaningless() if time is None else None
    whole = _whole_message(_unstretched(words), language) or _keyword(text, words, roles)
    if whole is not None:
        return Act(whole)
    command = intents.match_command(text)
    if isinstance(command, a.ExportParticipants):
        return Act(command)  # the export looks its course up itself, offering a choice
    words = [word for word in _repaired(words, spelled or knows) if word not in _SOFT] or words
    window = time.window if time else None
    naming = _find(_COURSE_PHRASES, words)
    cue_words = [_MASK if position in naming else word for position, word in enumerate(words)]
    for cue in CUES:
        if cue.roles is not None and not cue.roles & roles:
            continue
        used = _cue_match(cue, cue_words)
        if used is None:
            continue
        rest = [word for position, word in enumerate(words) if position not in used]
        if about_bt and cue.want in _ABOUT_A_COURSE and _contains_any(words, _DOCTORS):
            return None  # when doctors start BT, whether they may: the FAQ's
        return Request(
            cue.want,
            _course_words(rest),
            window,
            _mention_words(rest),
            cue.who,
            _mentions_course(words) and not cue.weak,
            weak=cue.weak,
            several=_contains_any(words, _SEVERAL) or _contains_any(words, _ANY_ONE),
            about_bt=about_bt,
        )
    asks = any(word in QUESTION_WORDS for word in words) or "?" in text
    if not asks and _opens_with_thanks(_unstretched(words)):
        return Act(a.Thanks())  # thanks for something no request names ("tack för snabbt svar")
    # The intent table's whole-message keywords ("kurser", "kalendr") and commands ("kurs stas").
    keyword = intents.match_intent(text)
    if keyword is not None:
        return Act(keyword)
    if command is not None:
        want = Want.participants if isinstance(command, a.Participants) else Want.show_course
        query = _course_words(_words(prepare(command.query)))
        return Request(want, query, mentions_course=True)
    if _meaningless(words, knows):
        return Meaningless()
    if asks and window is None:
        return None
    course_words = _course_words(words)
    if not course_words:
        return None
    # a course's name alone is the course; with a time, its sessions then
    want = Want.show_course if window is None else Want.sessions
    several = _contains_any(words, _SEVERAL)
    return Request(
        want,
        course_words,
        window,
        _mention_words(words),
        bare=True,
        several=several,
        about_bt=about_bt,
    )


def resolve(
    request: Request,
    *,
    roles: frozenset[Role],
    courses: Sequence[Course],
    elsewhere: Sequence[Course] = (),
) -> Interpretation | None:
    """The request with its course looked up: an action, a choice, or the closest courses (also
    for a course only other regions offer, when `elsewhere` holds the catalogue)."""
    want = request.want
    simple = _simple_action(request)
    if simple is not None:
        return Act(simple)
    if request.about_bt and want in _ABOUT_A_COURSE and not _named_besides_bt(request, courses):
        return None  # "när börjar man BT?", "when do Swedish-trained doctors start BT?"
    if want in _BOOKED - {Want.sessions, Want.participants} and Role.doctor not in roles:
        want = Want.show_course  # only BT doctors enrol: others see the course
    words = request.course_words
    if request.bare:
        scored = scored_courses(words, list(courses))
        if scored and scored[0][0] >= BARE_COURSE:
            named = _in_full(request, match_courses(words, list(courses)))
            return _chosen(want, _bookable(named) if want in _BOOKED else named, request.window)
        if request.window is None:
            return None
        # a course and a time, no request word ("går försäkringsmedicin nåt i juni?")
        spotted = _bookable(spot_courses(request.mention_words, courses))
        return _chosen(want, spotted, request.window) if spotted else None
    if not words and not request.mention_words:
        only = _bookable(list(courses))
        if request.mentions_course and len(only) == 1 and want in _BOOKED:
            return _chosen(want, only, request.window)  # "anmäl mig till kursen": the one there is
        return None if request.weak else _without_course(want, request.window)
    matches = _named(request, courses)
    if want in _BOOKED:
        matches = _bookable(matches)
    if request.weak:
        return _chosen(want, matches, request.window) if matches else None
    elsewhere_named = _offered_elsewhere(words, courses, elsewhere)
    if matches and not (elsewhere_named and not named_by_every_word(words.split(), matches)):
        return _chosen(want, matches, request.window)
    if not words:  # only a place named ("vad finns att anmäla sig till i vgr")
        return _without_course(want, request.window)
    if want in _STRONG or request.mentions_course or elsewhere_named:
        closest = [course for _, course in scored_courses(words, list(courses))[:CLOSEST]]
        return NoCourse(words, tuple((c, _action(want, c, request.window)) for c in closest))
    if want in (Want.withdraw, Want.participants):
        return _without_course(want, request.window)
    return None


def _named(request: Request, courses: Sequence[Course]) -> list[Course]:
    """The courses a request names: the one course mentioned in it, else the closest names,
    else the courses mentioned (all of them when it is about several)."""
    spotted = spot_courses(request.mention_words, courses)
    if len(spotted) == 1:
        return spotted
    matches = match_courses(request.course_words, list(courses))
    telling = [word for word in request.course_words.split() if word not in NEVER_ALONE]
    if telling and len(telling) < len(request.course_words.split()):
        # "BT" beside other words is no name of its own: "BT-kollegiet" is no "Introduktion
        # till BT"; "försäkringsmedicin AT/BT" is still the course
        named = {course.id for course in match_courses(" ".join(telling), list(courses))}
        matches = [course for course in matches if course.id in named]
    spotted_ids, matched_ids = {c.id for c in spotted}, {c.id for c in matches}
    narrower = bool(spotted) and spotted_ids < matched_ids
    wider = request.several and spotted_ids > matched_ids
    return _in_full(request, spotted if not matches or narrower or wider else matches)


def _in_full(request: Request, matches: list[Course]) -> list[Course]:
    """Of several courses, the one whose whole name is typed ("försäkringsmedicin", not
    "Klinisk försäkringsmedicin"), unless the sentence is about several."""
    if len(matches) < 2 or request.several:
        return matches
    whole = named_in_full(request.mention_words, matches)
    return whole if len(whole) == 1 else matches


def _named_besides_bt(request: Request, courses: Sequence[Course]) -> bool:
    """Whether words other than "BT" mention a course ("stas i BT", "the teaching during the BT
    year")."""
    others = [word for word in request.mention_words if word not in _BT_ITSELF]
    return bool(others) and bool(spot_courses(others, courses))


def _offered_elsewhere(words: str, courses: Sequence[Course], catalogue: Sequence[Course]) -> bool:
    """Whether the words are the name of a course other regions offer ("berätta om Antibiotika
    SMART" in a region without it): no such course here, rather than a question, or a course
    here that only some of the words name ("smart" of "Smärta och palliation")."""
    here = {course.id for course in courses}
    others = [course for course in catalogue if course.id not in here]
    return bool(others) and bool(named_by_every_word(words.split(), others))


def _bookable(courses: list[Course]) -> list[Course]:
    """Courses with sessions, when there are any: a web course is not what a booking means."""
    return [course for course in courses if course.kind is not CourseKind.webbkurs] or courses


def action_for(want: Want, course: Course, window: Window | None) -> a.Action:
    """The request for one course: what a "which course?" button carries."""
    return _action(want, course, window)


# --- whole messages ---------------------------------------------------------------------------


def _whole_message(words: list[str], language: Language) -> a.Action | None:
    """Thanks, greetings and "what can you do", and language switches: the message as a whole."""
    if _contains_any(words, intents.THANKS) and all(
        word in intents.POLITE or _contains_any([word], intents.THANKS) for word in words
    ):
        return a.Thanks()
    rest = [word for word in words if word not in intents.GREETINGS and word not in _BOT_NAMES]
    greeted = any(word in intents.GREETINGS for word in words)
    if greeted and all(word in _ADDRESSEE for word in rest):
        return a.Help()  # "hi bot", "hej du", "hej igen": whom a greeting is for is no request
    plain = [word for word in rest if word not in _FILLER and word not in _SOFT]
    if {" ".join(rest), " ".join(plain)} & intents.HELP_PHRASES:
        return a.Help()  # "vad kan du", "visa huvudmenyn", "show me the options please"
    other_words = [w for w in words if w not in intents.LANGUAGE_WORDS]
    if not other_words and _contains_any(words, intents.TOGGLE_LANGUAGE):
        return a.English() if language is Language.sv else a.Swedish()
    if other_words and all(word in _LANGUAGE_NAMES for word in other_words):
        # the language named last is the one wanted ("my swedish is not great, english?"),
        # the other one when the only one named is refused or hard for one ("I don't speak
        # Swedish", "my Swedish is bad"; but "kan du inte svara på engelska?" asks for it)
        wanted = _LANGUAGE_NAMES[other_words[-1]]
        troubled = _contains_any(words, _NEGATION) or _contains_any(words, _LANGUAGE_TROUBLE)
        refused = troubled and not _contains_any(words, _ADDRESSEE)
        if refused and len({_LANGUAGE_NAMES[word] for word in other_words}) == 1:
            wanted = Language.sv if wanted is Language.en else Language.en
        return a.English() if wanted is Language.en else a.Swedish()
    return None


def _keyword(text: str, words: list[str], roles: frozenset[Role]) -> a.Action | None:
    """The intent table's keyword the whole message is ("visa mina kurser"). One reached only by
    setting filler aside yields to a request of the asker's desk: "show the open questions" is
    a coordinator's reports, not "questions" ("open" is filler in "open the calendar")."""
    found = intents.exact_intent(text)
    if found is None or not intents.sets_filler_aside(text):
        return found
    for cue in CUES:
        desk = cue.roles is not None and Role.doctor not in cue.roles and bool(cue.roles & roles)
        if desk and _cue_match(cue, words) is not None:
            return None
    return found


_BOT_NAMES = frozenset(intents.FAMILIES["bot_names"])
_NEGATION = intents.FAMILIES["negation"]
_LANGUAGE_TROUBLE = intents.FAMILIES["language_trouble"]
_ADDRESSEE = intents.FAMILIES["addressee"]


def _opens_with_thanks(words: list[str]) -> bool:
    """A short message whose first word of weight thanks ("ok, tack för infon"): a closing "tack"
    is Swedish for "please" ("lista på alla delmål tack")."""
    if len(words) > THANKS_WORDS:
        return False
    thanked = _find(intents.THANKS, words)
    for position, word in enumerate(words):
        if position in thanked:
            return True
        if word not in intents.POLITE and word not in intents.GREETINGS:
            return False
    return False


def _collapsed(word: str) -> str:
    """A word with each run of one letter written once ("tackk", "thaaanks": "tack", "thanks")."""
    return "".join(
        letter for position, letter in enumerate(word) if word[position - 1 : position] != letter
    )


_SHORT_MESSAGE_WORDS = frozenset(
    phrase for phrase in (*intents.THANKS, *intents.POLITE, *intents.GREETINGS) if " " not in phrase
)
_STRETCHED = {_collapsed(word): word for word in sorted(_SHORT_MESSAGE_WORDS) if "*" not in word}
"""Words of thanks, goodbyes and greetings by their letters written once each."""


def _unstretched(words: list[str]) -> list[str]:
    """Words of thanks and greetings typed with a letter held down ("tackk", "hejjj") as
    themselves: only whole messages read them so ("off" is no "of" in a request)."""
    return [
        word
        if word in _SHORT_MESSAGE_WORDS or word == _collapsed(word)
        else _STRETCHED.get(_collapsed(word), word)
        for word in words
    ]


_LANGUAGE_NAMES = {
    "english": Language.en,
    "engelska": Language.en,
    "svenska": Language.sv,
    "swedish": Language.sv,
}


# --- cues -------------------------------------------------------------------------------------


def _words(prepared: str) -> list[str]:
    """Folded words, hyphenated and slashed words split ("stas-kursen", "at/bt")."""
    return fold(prepared.replace("-", " ").replace("/", " ").replace("?", " ")).split()


_COMPOUND_HEADS = tuple(sorted(intents.FAMILIES["compound_heads"], key=len, reverse=True))
_BT_ITSELF = frozenset(intents.FAMILIES["bt_itself"])


def _compounds_apart(words: list[str]) -> list[str]:
    """Compounds ending in a word that asks when read as two words ("seminarietider":
    "seminarie tider"), so the first part can name the course."""
    apart = []
    for word in words:
        head = next((h for h in _COMPOUND_HEADS if word.endswith(h) and word != h), None)
        if head is not None and len(word) - len(head) >= MIN_LEMMA:
            apart += [word[: -len(head)], head]
        else:
            apart.append(word)
    return apart


def _names_bt_itself(prepared: str) -> bool:
    """Whether "BT" stands alone, not as the first part of a course's name ("BT-dagen", "the BT
    day"): at the end of the sentence or before a word that names nothing ("BT mer än en gång")."""
    typed = [word.strip("?!.,:;") for word in fold(prepared).split()]
    for position, word in enumerate(typed):
        if word in _BT_ITSELF:
            after = typed[position + 1] if position + 1 < len(typed) else ""
            if not after or after in _NOT_COURSE_NAME:
                return True
    return False


class _Part(StrEnum):
    """How a phrase word matches a typed word."""

    word = "word"  # the word or one of its forms
    prefix = "prefix"  # `x*`: any word beginning with x
    inside = "inside"  # `*x*`: any word holding x, a compound's part ("mobilkalendern")


@lru_cache(maxsize=1024)
def _pattern(phrase: str) -> tuple[tuple[str, _Part], ...]:
    """A phrase as (word, how it matches) pairs; a lone `*` is any word ("" as a prefix)."""
    pattern = []
    for word in phrase.split():
        if len(word) > 2 and word.startswith("*") and word.endswith("*"):
            pattern.append((word[1:-1], _Part.inside))
        elif word.endswith("*"):
            pattern.append((word.rstrip("*"), _Part.prefix))
        else:
            pattern.append((word, _Part.word))
    return tuple(pattern)


def _matches(word: str, keys: frozenset[str], part: str, how: _Part) -> bool:
    """Whether a typed word (and its dictionary forms, `keys`) is a phrase's word."""
    match how:
        case _Part.prefix:
            return word.startswith(part)
        case _Part.inside:
            return part in word
    return not _word_keys(part).isdisjoint(keys)


def _find(phrases: Sequence[str], words: Sequence[str]) -> set[int]:
    """The positions of every word that some phrase covers."""
    keys = _sentence_keys(tuple(words))
    present = frozenset[str]().union(*keys)
    used: set[int] = set()
    for phrase in phrases:
        pattern = _pattern(phrase)
        first, how = pattern[0]
        if how is _Part.word and _word_keys(first).isdisjoint(present):
            continue  # most phrases: their first word is nowhere in the sentence
        if first and how is not _Part.word and not any(first in word for word in words):
            continue
        for start in range(len(words) - len(pattern) + 1):
            if all(
                _matches(words[start + offset], keys[start + offset], part, part_how)
                for offset, (part, part_how) in enumerate(pattern)
            ):
                used.update(range(start, start + len(pattern)))
    return used


@lru_cache(maxsize=4096)
def _sentence_keys(words: tuple[str, ...]) -> tuple[frozenset[str], ...]:
    """Each typed word with its dictionary forms (function words alone: their forms collapse,
    "mig", "min" and "mina" are all "jag")."""
    return tuple(
        frozenset({word})
        if word in STOPWORDS
        else frozenset({word, f"sv:{fold(lemma_sv(word))}", f"en:{fold(lemma_en(word))}"})
        for word in words
    )


@lru_cache(maxsize=8192)
def _word_keys(word: str) -> frozenset[str]:
    """What a phrase word matches: itself, and when it is a plain word, its other forms
    ("skriv upp" matches "skrev upp", "join" "joined"). A word in a form of its own ("bokad",
    "booked") means that form only: "hur bokar man" is no "bokad". Short and question words
    stay literal: folded, their forms collide ("nar" is "när", and "nära" too)."""
    keys = {word}
    if len(word) >= MIN_LEMMA and word not in STOPWORDS and word not in QUESTION_WORDS:
        sv, en = fold(lemma_sv(word)), fold(lemma_en(word))
        if sv in (word, f"{word}a"):  # "boka", "skriv" (skriva), "anmal" (anmala)
            keys.add(f"sv:{sv}")
        if en == word:
            keys.add(f"en:{en}")
    return frozenset(keys)


def _contains_any(words: Sequence[str], phrases: Sequence[str]) -> bool:
    return bool(_find(phrases, words))


def _cue_match(cue: Cue, words: list[str]) -> set[int] | None:
    """The positions a cue covers, or None when the sentence is not that request."""
    if cue.unless and _contains_any(words, cue.unless):
        return None
    used: set[int] = set()
    for group in cue.groups:
        found = _find(group, words)
        if not found:
            return None
        used |= found
    return used


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[frozenset[str], tuple[str, ...], tuple[str, ...]]:
    """Every word of the cues and keywords, the prefixes of `x*` and the parts of `*x*`."""
    whole: set[str] = set()
    prefixes: set[str] = set()
    parts: set[str] = set()
    phrase_lists: list[Sequence[str]] = [
        intents.THANKS,
        intents.TOGGLE_LANGUAGE,
        tuple(intents.HELP_PHRASES),
        tuple(intents.GREETINGS),
        tuple(intents.POLITE),
        tuple(intents.LANGUAGE_WORDS),
        tuple(intents.CHATTER),
        tuple(fold(k) for spec in intents.INTENTS for k in spec.keywords),
    ]
    for cue in CUES:
        phrase_lists += [*cue.groups, cue.unless]
    for phrases in phrase_lists:
        for phrase in phrases:
            for word, how in _pattern(phrase):
                if word:
                    {_Part.word: whole, _Part.prefix: prefixes, _Part.inside: parts}[how].add(word)
    return frozenset(whole), tuple(sorted(prefixes)), tuple(sorted(parts))


def _in_vocabulary(word: str) -> bool:
    whole, prefixes, parts = _vocabulary()
    return word in whole or word.startswith(prefixes) or any(part in word for part in parts)


def _repaired(words: list[str], spelled: Knows) -> list[str]:
    """Typos of request words repaired ("outlok", "avanmla", "regster", "studierektr"), leaving
    words something spells: a typo the FAQ would repair to a word of its own is still a typo."""
    candidates = _repair_candidates()
    repaired = []
    for word in words:
        if len(word) >= TYPO_MIN and not _in_vocabulary(word) and not spelled(word):
            typos = 2 if len(word) >= TYPO_TWO else 1
            found = process.extract(word, candidates, scorer=OSA.distance, score_cutoff=typos)
            # of repairs as near, one that adds a dropped letter ("supervisr": "supervisor",
            # not "supervise"): a missing letter is the commoner slip
            nearest = min(
                found, key=lambda hit: (hit[1], Indel.distance(word, hit[0])), default=None
            )
            repaired.append(str(nearest[0]) if nearest else word)
        else:
            repaired.append(word)
    return repaired


@lru_cache(maxsize=1)
def _repair_candidates() -> tuple[str, ...]:
    """The request words a typo may be of: the cues' words, and the beginnings of `x*` long
    enough to be a word of their own ("studierektor*")."""
    whole, prefixes, _ = _vocabulary()
    words = whole | {prefix for prefix in prefixes if len(prefix) >= TYPO_MIN + 1}
    # a repair to a function word ("intro" → "into") says nothing about what is wanted
    return tuple(sorted(w for w in words if len(w) >= TYPO_MIN - 1 and w not in STOPWORDS))


def _course_words(words: Sequence[str]) -> str:
    return " ".join(word for word in words if word not in _NOT_COURSE_NAME)


_COURSE_PHRASES = intents.FAMILIES["course_phrases"]
"""Names of courses (or their kinds) holding request words: "schemalagd undervisning" is no
"schema". Their words are hidden from the cues and left to name the course."""
_MASK = "_"

_SEVERAL = intents.FAMILIES["several"]
_ANY_ONE = intents.FAMILIES["any_one"]
_DOCTORS = intents.FAMILIES["doctors_word"]
_NOT_MENTION = _NOT_COURSE_NAME - PLACE_NAMES
_SOFT = frozenset(intents.FAMILIES["soft"])
"""Words that soften a request anywhere in it ("vill gärna gå"): no part of any phrase."""


def _mention_words(words: Sequence[str]) -> tuple[str, ...]:
    return tuple(word for word in words if word not in _NOT_MENTION)


def _mentions_course(words: Sequence[str]) -> bool:
    return any(part in word for word in words for part in _COURSE_MENTIONS)


_ASKING_FIRST = frozenset(intents.FAMILIES["asking_first"])
"""Words a question begins with (Swedish asks by putting the verb first: "finns det …")."""


def reads_as_question(text: str) -> bool:
    """Whether text is put as a question (begins as one, or names a region): then it is for
    the FAQ or a person, even when no word of it is known ("finns det ett gym i Gävle?")."""
    words = _words(prepare(text))
    return (bool(words) and words[0] in _ASKING_FIRST) or bool(regions_named(text))


def _meaningless(words: Sequence[str], knows: Knows) -> bool:
    """No word left that anything knows, once chatter and greetings are set aside."""
    if len(words) > 1 and reads_as_question(" ".join(words)):
        return False
    content = [
        word
        for word in words
        if word not in intents.CHATTER and word not in intents.GREETINGS and word not in STOPWORDS
    ]
    return not any(_in_vocabulary(word) or knows(word) for word in content if not _noise(word))


_NOISE = re.compile(r"^(?:\d+|(.)\1+|[a-z])$")


def _noise(word: str) -> bool:
    """Digits alone, one letter over and over ("kkkk"), a single letter."""
    return bool(_NOISE.match(word))


# --- actions ----------------------------------------------------------------------------------


def _simple_action(request: Request) -> a.Action | None:
    """The requests that need no course."""
    match request.want:
        case Want.remaining:
            return a.CoursesLeft()
        case Want.courses:
            return a.Courses()
        case Want.my_courses:
            return a.MyCourses()
        case Want.calendar:
            return a.Calendar()
        case Want.new_calendar_link:
            return a.NewCalendarLink()
        case Want.assessments:
            return a.Assessments()
        case Want.contact:
            return a.FaqTopic(entry=CONTACT_ENTRIES[request.who or "all"])
        case Want.trainees:
            return a.MyTrainees()
        case Want.supervisor_guide:
            return a.FaqTopic(entry=SUPERVISOR_GUIDE)
        case Want.reports:
            return a.Reports()
        case Want.broadcast:
            return a.Broadcast()
        case Want.help:
            return a.Help()
    return None


def _without_course(want: Want, window: Window | None) -> Interpretation | None:
    """A request that names no course: enrol shows the catalogue, withdraw what I hold."""
    match want:
        case Want.enrol:
            return Act(a.Courses())
        case Want.withdraw:
            start, end = (window.start, window.end) if window else (None, None)
            return Act(a.WithdrawFrom(start=start, end=end))
        case Want.participants:
            return Act(a.Participants())
    return None


def _chosen(want: Want, matches: Sequence[Course], window: Window | None) -> Interpretation:
    actions = tuple((course, _action(want, course, window)) for course in matches)
    return Act(actions[0][1]) if len(actions) == 1 else Choose(actions)


def _action(want: Want, course: Course, window: Window | None) -> a.Action:
    assert course.id is not None
    start, end = (window.start, window.end) if window else (None, None)
    match want:
        case Want.enrol:
            return a.EnrolIn(course_id=course.id, start=start, end=end)
        case Want.withdraw:
            return a.WithdrawFrom(course_id=course.id, start=start, end=end)
        case Want.sessions:
            return a.Sessions(course_id=course.id, start=start, end=end)
        case Want.participants:
            return a.Participants(course_id=course.id)
    return a.ShowCourse(course_id=course.id)
