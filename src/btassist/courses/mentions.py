"""Finding the course a sentence mentions anywhere in it, in any form people write it.

"avregistrera mig från palliationsdagen", "vill inte gå nässjö-introt", "add me to the difficult
conversations session": the words of a course's names (Swedish and English) are looked for among
the words typed, forgiving endings, compounds ("juridikkursen" holds "juridik"), clipped words
("intro", "introt") and typos. A name word shared by many of the region's courses ("temadag",
"webbutbildning") says less than one only this course has ("palliation"), so each word counts by
how rare it is among the courses looked at.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

from rapidfuzz import fuzz

from btassist.common.regions import REGION_CODES
from btassist.common.text import fold
from btassist.courses.models import Course


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


FUNCTION_WORDS = _wordset(
    "och i till av vid under eller om for med pa ca the and of in to during or when about a an on"
)
"""Words of course names that name nothing."""
NEVER_ALONE = _wordset("bt at region demo")
"""Name words that never single a course out on their own ("när startade BT?")."""
KIND_WORDS = _wordset(
    "dag day temadag theme kurs course courses webbutbildning web utbildning utbildningar "
    "teaching undervisning training"
)
"""Name words of a kind of course: alone, they single out the one course of that kind."""
SYNONYMS = {"online": "web", "webb": "web"}
"""Beginnings of typed words that mean a name word they do not resemble ("webbkurserna")."""
KIND_SHARE = 0.5
"""A kind word alone names every course of that kind when fewer than this share of the
courses are of it ("the online courses"); a word nearly all share ("kurs") names none."""
MIN_STEM = 4
"""A name word this long may begin a longer typed word ("juridik" in "juridikkursen")."""
MIN_CLIPPED = 5
"""A typed word this long may be the start of a name word ("intro" of "introduktion")."""
ENDINGS = _wordset("en ar arna arnas ens s es")
"""Endings a name word too short to begin a compound may take ("dagar", "dagen", "days")."""
TYPO_MIN = 6
"""Shorter words are no typos of each other: one letter of five makes another word ("start",
"smart")."""
TYPO_RATIO = 80.0
STEMMED = 7
"""Words this long are also compared without their last two letters (their ending)."""
NEAR = 0.8
"""Courses mentioned at least this much of the best mention are offered as a choice."""


def spot_courses(words: Sequence[str], courses: Sequence[Course]) -> list[Course]:
    """The courses folded `words` mention, best first: one when it is clear, a few when not."""
    names = {course.id: _name_words(course) for course in courses}
    counts = Counter(word for words_of in names.values() for word in words_of)
    scored: list[tuple[float, Course]] = []
    of_kind: list[Course] = []
    typed = [*words, *_synonyms(words)]
    for course in courses:
        matched = {name for name in names[course.id] if any(_names(w, name) for w in typed)}
        if len(matched) < 2 and not matched - NEVER_ALONE - KIND_WORDS:
            alone = matched - NEVER_ALONE
            if not alone:
                continue
            if counts[next(iter(alone))] > 1:
                if counts[next(iter(alone))] < KIND_SHARE * len(courses):
                    of_kind.append(course)
                continue
        weight = sum(math.log(1 + len(courses) / counts[name]) for name in matched)
        scored.append((weight, course))
    if not scored:
        return of_kind
    scored.sort(key=lambda pair: -pair[0])
    best = scored[0][0]
    return [course for weight, course in scored if weight >= NEAR * best]


def named_in_full(words: Sequence[str], courses: Sequence[Course]) -> list[Course]:
    """The courses one of whose names folded `words` hold every word of: "försäkringsmedicin"
    names "Försäkringsmedicin AT/BT" in full, and only part of "Klinisk försäkringsmedicin"."""
    typed = [*words, *_synonyms(words)]
    return [course for course in courses if _whole_name_typed(typed, course)]


def named_by_every_word(words: Sequence[str], courses: Sequence[Course]) -> list[Course]:
    """The courses whose names hold every one of folded `words`, one of them a word that singles
    a course out ("antibiotika smart", "stas"; not "bt introduced")."""
    typed = [*words, *_synonyms(words)]
    found = []
    for course in courses:
        names = _name_words(course)
        named = [{name for name in names if _names(word, name)} for word in typed]
        if all(named) and set().union(*named) - NEVER_ALONE - KIND_WORDS:
            found.append(course)
    return found


def _whole_name_typed(typed: Sequence[str], course: Course) -> bool:
    """Whether every word of one of the course's names is typed (kind words and "BT" aside)."""
    for name in (course.title_sv, course.title_en):
        needed = _words_of_names(name) - NEVER_ALONE - KIND_WORDS
        if needed and all(any(_names(word, part) for word in typed) for part in needed):
            return True
    return False


def _synonyms(words: Sequence[str]) -> list[str]:
    """The name words typed words mean without resembling them ("onlinekurser": "web")."""
    return [name for word in words for start, name in SYNONYMS.items() if word.startswith(start)]


def _name_words(course: Course) -> frozenset[str]:
    return _words_of_names(course.title_sv, course.title_en)


@lru_cache(maxsize=4096)
def _words_of_names(*names: str) -> frozenset[str]:
    """The words of a course's names that may name it (not "och", nor its region's name)."""
    text = " ".join(names).replace("-", " ").replace("/", " ")
    return frozenset(
        word
        for word in fold(text).split()
        if word not in FUNCTION_WORDS and word not in REGION_CODES and word[:-1] not in REGION_CODES
    )


@lru_cache(maxsize=65536)
def _names(typed: str, name: str) -> bool:
    """Whether a typed word is a form of a course name's word."""
    if typed == name:
        return True
    if len(name) >= MIN_STEM and typed.startswith(name):
        return True  # an ending or a compound: "palliationsdagen", "conversations"
    compound = len(typed) > len(name) > MIN_STEM
    if compound and name[-1] in "ae" and typed.startswith(name[:-1]):
        return True  # a compound's first part without its vowel: "smärtdagen" (smärta)
    clipped = (typed, typed[:-1], typed[:-2]) if len(typed) > MIN_CLIPPED else (typed,)
    if any(len(form) >= MIN_CLIPPED and name.startswith(form) for form in clipped):
        return True  # "intro", "introt", "schemalagda" → "schemalagd"
    if len(name) < MIN_STEM and typed[len(name) :] in ENDINGS and typed.startswith(name):
        return True  # a short word inflected: "dagar", "dagen" (dag), "days"
    if len(typed) < TYPO_MIN or len(name) < TYPO_MIN:
        return False
    stems = (typed[:-2], name[:-2]) if min(len(typed), len(name)) >= STEMMED else (typed, name)
    return max(fuzz.ratio(typed, name), fuzz.ratio(*stems)) >= TYPO_RATIO  # "paliative"
