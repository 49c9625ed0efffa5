"""Turning Swedish and English questions into comparable terms: fold, lemmatise, stem, synonyms
and compounds.

The same analyser processes the knowledge base and the questions, so whatever it does to one it
does to the other: "Handledarna", "handledare", "handledar" and "supervisors" become one term.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import snowballstemmer

from btassist.common.text import fold
from btassist.faq.morphology import (
    MIN_COMPOUND,
    MIN_PART,
    CompoundLexicon,
    fold_word,
    lemma_sv,
)

_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_RAW_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Function words carry no topic. Question words ("vem", "när", "who", "when") are kept on purpose:
# they separate "vad är BT-kollegium" from "när är BT-kollegium".
STOPWORDS = _wordset(
    """
    och att det som en ett i pa ar av for med till den de om har jag du man sig vi ni min mitt
    mina din ditt dina sin sitt sina er ert era vart varit bli blir blev ska skall kan kunna
    maste far fa fick ha hade inte ocksa eller men sa da nu har dar vid fran efter under over
    hos mot sedan redan bara aven just nagon nagot nagra alla allt mycket mer mest sig sjalv
    detta denna dessa the a an of to in on for with and or is are was were be been being do
    does did have has had i me my mine you your we our they their it its this that these those
    there here as by from about into if then than so can could should would will shall may might
    must am not no also just any some please thanks tack hej hi hello ok okej snalla
    egentligen exakt exactly actually really liksom alltsa nog val ju sverige sweden finns
    tar ifran star gora gor gors goras gjort gjorde gjord jobba jobbar arbeta arbetar blir bli
    galler vara work working already still soon hey got anything something know want wanted would
    anda finnas
    mig dig oss dem honom henne hen behover behova behovs need needs needed ny nya nytt new
    normalt vanligtvis oftast usually normally typically use used anvands anvander anvanda anvandas
    anvant using gar fungerar funkar
    fortfarande nat nan nagonting someone somebody thing things whatever
    """
)
# Pronouns, "need", "new", "usually" and "use" are how people pad a question ("behöver jag …",
# "I am new", "what system does X use"); they never say what it is about.
GENERAL_WORDS = _wordset(
    """
    read reading find found look looking see check checked fulfill fulfil fulfilled skip
    skipped give gives given get gets getting make makes made tell told say says said based
    point idea sure exactly anyway really right hi hello dear thank thanks okay offer offers
    offered write written wrote plain words pick picked later veta vet pratar pratas
    lasa hitta kolla brukar brukade hej tack jamfort jamfor compared vs versus download
    downloaded ladda down come came
    """
)
"""Everyday words that say how a person asks, never what about: unknown to the knowledge base,
they are details of a question, not a missing topic ("… to fulfill", "where can I read …")."""
QUESTION_WORDS = _wordset(
    "vad vem vilka vilken vilket hur nar var varfor betyder innebar what who which how when where "
    "why whom mean means meaning manga many much forklara forklar beskriv beskriva beratta "
    "explain describe tell innehalla innehaller contain contains include includes handlar "
    "involve involves"
)
"""Question words, and requests that work as one ("förklara X" asks "vad är X", "vad innehåller
X" and "what does X involve" ask the same)."""
_FUNCTION_WORDS = STOPWORDS | QUESTION_WORDS
REGION_WORDS = frozenset({"region", "regionen", "lan", "lanet", "landsting", "county"})

# Places that name a region. City names stay terms as well: Varberg and Halmstad differ.
REGION_NAMES: Mapping[str, tuple[str, ...]] = {
    "vgr": (
        "vgr",
        "vastra gotaland",
        "vastra gotalandsregionen",
        "vastra gotalands",
        "gotaland",
        "skaraborg",
        "skas",
        "goteborg",
        "gothenburg",
        "kungalv",
        "boras",
        "trollhattan",
        "skovde",
        "sahlgrenska",
    ),
    "kronoberg": ("kronoberg", "kronobergs", "vaxjo", "ljungby"),
    "gavleborg": ("gavleborg", "gavleborgs", "gavle", "hudiksvall", "bollnas"),
    "orebro": ("orebro", "orebros", "karlskoga", "lindesberg"),
    "jonkoping": (
        "jonkoping",
        "jonkopings",
        "jkpg",
        "rjl",
        "nassjo",
        "varnamo",
        "eksjo",
        "futurum",
    ),
    "halland": ("halland", "hallands", "halmstad", "varberg", "kungsbacka", "falkenberg"),
}
PLACE_NAMES = frozenset(
    name for names in REGION_NAMES.values() for name in names if " " not in name
)
"""One-word names of regions and their cities."""
# Only these are dropped from the terms; cities are both a region hint and a term.
_REGION_ONLY = frozenset(
    {"vgr", "gotaland", "vastra", "gotalandsregionen", "gotalands"}
    | {"kronoberg", "kronobergs", "gavleborg", "gavleborgs", "orebro", "orebros"}
    | {"jonkoping", "jonkopings", "jkpg", "rjl", "halland", "hallands"}
)


@lru_cache(maxsize=1)
def _stemmers() -> tuple[snowballstemmer.stemmer, snowballstemmer.stemmer]:
    return snowballstemmer.stemmer("swedish"), snowballstemmer.stemmer("english")


_SV_INFLECTIONS = ("et", "en", "n", "t", "na", "ens", "ets")
"""Endings a compound's last part may carry ("introduktions|blocket" is "introduktion + block")."""

# Definite forms Snowball leaves alone: "studierektorn", "kollegiet", "psykiatrin".
_SV_DEFINITE = (("orn", "or"), ("iet", "ium"), ("atrin", "atri"))


@lru_cache(maxsize=65536)
def stem_sv(word: str) -> str:
    """The Swedish Snowball stem of a folded word, plus a few definite forms it misses."""
    stem: str = _stemmers()[0].stemWord(word)
    for suffix, replacement in _SV_DEFINITE:
        if stem.endswith(suffix) and len(stem) > len(suffix) + 3:
            return stem[: -len(suffix)] + replacement
    return stem


@lru_cache(maxsize=65536)
def stem_en(word: str) -> str:
    """The English Snowball stem of a folded word."""
    result: str = _stemmers()[1].stemWord(word)
    return result


def words(text: str) -> list[str]:
    """Folded words; a hyphenated word ("mini-cex", "bt-läkare") stays one word."""
    return [match.group() for match in _WORD.finditer(fold(text))]


def word_pairs(text: str) -> list[tuple[str, str]]:
    """(folded, lower-case) per word: the folded form compares, the other has the å/ä/ö the
    lemmatiser needs."""
    pairs = []
    for match in _RAW_WORD.finditer(text.casefold()):
        raw = match.group()
        folded = fold_word(raw)
        if _WORD.fullmatch(folded):
            pairs.append((folded, raw))
        else:  # letters that fold to nothing usable: compare as fold() does
            pairs += [(word, word) for word in _WORD.findall(folded)]
    return pairs


def _parts(word: str) -> list[str]:
    return [part for part in word.split("-") if part]


def plain_words(text: str) -> str:
    """A text's folded words, hyphens as spaces, one space apart: what phrase patterns read
    ("BT-läkare i Region Gävleborg?" → "bt lakare i region gavleborg")."""
    return " ".join(words(text)).replace("-", " ")


def regions_named(text: str) -> frozenset[str]:
    """Region codes a text mentions by name or by one of its cities."""
    folded = f" {plain_words(text)} "
    return frozenset(
        code for code, names in REGION_NAMES.items() if any(f" {name} " in folded for name in names)
    )


_NATIONWIDE = re.compile(
    r"\b(?:nationell\w*|national(?:ly)?|rikstack\w*|countrywide|nationwide|hela (?:landet|sverige)"
    r"|alla regioner\w*|varje region|(?:all|every) (?:the )?regions?|across (?:the )?country"
    r"|i sverige|in sweden|mellan regionerna|olika regioner\w*|between (?:the )?regions"
    r"|different regions|across (?:the )?regions)\b"
)


_HERE = re.compile(
    r"\b(?:hos (?:oss|er|mig)|(?:i )?(?:var|min) region(?:en)?|(?:in )?(?:our|my) region"
    r"|where i work|at (?:our|my) (?:hospital|place)|here|har hos er)\b"
)


def asks_locally(text: str) -> bool:
    """Whether a text says it asks about the asker's own region without naming it ("hos oss",
    "in our region"): then that region's entries count as if it were named."""
    return _HERE.search(plain_words(text)) is not None


def asks_nationally(text: str) -> bool:
    """Whether a text asks about the national rule or all regions ("är det nationellt krav?",
    "do all regions …"): then no region's own entry stands in for the national one."""
    return _NATIONWIDE.search(plain_words(text)) is not None


@dataclass(frozen=True)
class Synonyms:
    """Groups of words that mean the same here; each group becomes one concept term."""

    groups: Mapping[str, tuple[str, ...]]
    _phrases: Mapping[str, tuple[tuple[tuple[str, ...], str], ...]] = field(init=False, repr=False)
    """First word → (phrase, concept), longest phrase first."""
    _single: Mapping[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        phrases: dict[tuple[str, ...], str] = {}
        single: dict[str, str] = {}
        for concept, surfaces in self.groups.items():
            for surface in (concept, *surfaces):
                pairs = word_pairs(surface)
                folded = " ".join(f for f, _ in pairs)
                # "mini-cex" is also written "minicex" and "mini cex".
                for form in {folded, folded.replace("-", ""), folded.replace("-", " ")}:
                    if " " in form:
                        phrases.setdefault(tuple(form.split()), concept)
                        continue
                    # Not the surface's lemma: "flest" is "mången", and would take "många".
                    # Nor a stem that is a function or question word of its own: "varar" is
                    # stemmed "var", which asks where, not how long.
                    for key in {form, stem_sv(form), stem_en(form)}:
                        if key == form or key not in _FUNCTION_WORDS:
                            single.setdefault(key, concept)
        by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for phrase, concept in phrases.items():
            by_first.setdefault(phrase[0], []).append((phrase, concept))
        object.__setattr__(
            self,
            "_phrases",
            {
                first: tuple(sorted(found, key=lambda item: -len(item[0])))
                for first, found in by_first.items()
            },
        )
        object.__setattr__(self, "_single", single)

    def concept(self, word: str, raw: str | None = None) -> str | None:
        """The concept a folded word belongs to, by its form, either stem or its lemma."""
        found = (
            self._single.get(word)
            or self._single.get(stem_sv(word))
            or self._single.get(stem_en(word))
            or (self._single.get(_lemma_stem(raw)) if raw and raw != word else None)
        )
        if found is None and "-" in word:
            return self.concept(word.replace("-", ""))
        return found

    def words(self, pairs: list[tuple[str, str]]) -> list[tuple[str, str, str | None]]:
        """(folded, raw, concept) per word, a multi-word synonym ("director of studies") as one
        word of its concept."""
        result: list[tuple[str, str, str | None]] = []
        folded_words = [folded for folded, _ in pairs]
        position = 0
        while position < len(pairs):
            for phrase, concept in self._phrases.get(folded_words[position], ()):
                if tuple(folded_words[position : position + len(phrase)]) == phrase:
                    result.append((concept, concept, concept))
                    position += len(phrase)
                    break
            else:
                folded, raw = pairs[position]
                result.append((folded, raw, None))
                position += 1
        return result


def _lemma_stem(raw: str) -> str:
    """The Swedish stem of a word's dictionary form: "kollegiet" and "kollegier" meet."""
    return stem_sv(fold_word(lemma_sv(raw))) if raw.isalpha() else fold_word(raw)


CONCEPT_PREFIX = "§"
COMPOUND_CREDIT = 0.7


@dataclass(frozen=True)
class Token:
    """One word of a question: the alternative terms it may stand for and how sure we are."""

    surface: str
    alternatives: tuple[tuple[str, ...], ...]
    """Each alternative is a tuple of terms that together mean the word (a compound's parts)."""
    weight: float = 1.0
    """Below 1 for a word guessed from a typo."""
    part_credit: float = COMPOUND_CREDIT
    """How much a match of all its parts counts: a compound's parts may mean something else
    ("deltid" = del + tid), a hyphenated word's are the word ("DOPS-bedömning")."""


class Analyser:
    """Folds, removes stop words, maps synonyms, lemmatises, stems and splits compounds the same
    way for the knowledge base and for questions."""

    MIN_PART = MIN_PART
    MIN_COMPOUND = MIN_COMPOUND

    def __init__(self, synonyms: Synonyms, compounds: CompoundLexicon | None = None) -> None:
        self.synonyms = synonyms
        self.compounds = compounds
        self.lexicon: frozenset[str] = frozenset()
        self._lexicon_stems: frozenset[str] = frozenset()

    def learn(self, texts: Iterable[str]) -> None:
        """Words of the knowledge base: typos are repaired towards them, and without the
        Swedish dictionary compounds are split into parts they contain."""
        found = {
            part
            for text in texts
            for word, _, concept in self._words(text)
            if concept is None
            for part in {word.replace("-", ""), *_parts(word)}
            if len(part) >= self.MIN_PART and part not in STOPWORDS
        }
        self.lexicon = frozenset(found)
        self._lexicon_stems = frozenset(stem_sv(word) for word in found) | frozenset(
            stem_en(word) for word in found
        )

    def _words(self, text: str) -> list[tuple[str, str, str | None]]:
        return self.synonyms.words(word_pairs(text))

    def _known_part(self, part: str) -> bool:
        if len(part) < self.MIN_PART:
            return False
        if part in self.lexicon or stem_sv(part) in self._lexicon_stems:
            return True
        # Snowball leaves many definite forms alone: "blocket", "passet", "kursen".
        return any(
            part.endswith(ending)
            and len(part) - len(ending) >= self.MIN_PART
            and part[: -len(ending)] in self.lexicon
            for ending in _SV_INFLECTIONS
        )

    def split_compound(self, word: str, *, whole: bool = True) -> tuple[str, str] | None:
        """The two words of a Swedish compound ("akutplacering" → akut + placering), by the
        Swedish dictionary (`whole` False: even one it lists as a word of its own); without it,
        by the knowledge base's words (linking s allowed)."""
        if self.compounds is not None:
            if whole and self.compounds.is_word(word):
                return None
            return self.compounds.split(word, whole=False) or self._concept_first(word)
        if len(word) < self.MIN_COMPOUND or word.isdigit():
            return None
        for cut in range(len(word) - self.MIN_PART, self.MIN_PART - 1, -1):
            head, tail = word[:cut], word[cut:]
            if not self._known_part(tail):
                continue
            if self._known_part(head):
                return head, tail
            if head.endswith("s") and self._known_part(head[:-1]):
                return head[:-1], tail
        return None

    def _concept_first(self, word: str) -> tuple[str, str] | None:
        """A compound that begins with a word of the synonym list, clipped or not ("intro|kursen",
        "psyk|delen", "akut|delen"): people build these, the dictionary does not list them."""
        if len(word) < self.MIN_COMPOUND or not word.isalpha():
            return None
        for cut in range(len(word) - self.MIN_PART, self.MIN_PART - 1, -1):
            head, tail = word[:cut], word[cut:]
            if self.synonyms.concept(head) is not None and (
                self._known_part(tail) or (self.compounds and self.compounds.ends_compounds(tail))
            ):
                return head, tail
        return None

    def term(self, word: str, language: str | None, raw: str | None = None) -> tuple[str, ...]:
        """The terms one word may be: its concept, else its stem(s) in `language` (both if
        None); a Swedish word's lemma stem too, where it differs ("gick" → "gå")."""
        concept = self.synonyms.concept(word, raw)
        if concept is not None:
            return (CONCEPT_PREFIX + concept,)
        if word.isdigit():
            return (word,)
        swedish = (stem_sv(word), _lemma_stem(raw or word))
        if language == "sv":
            return tuple(dict.fromkeys(swedish))
        if language == "en":
            return (stem_en(word),)
        return tuple(dict.fromkeys((*swedish, stem_en(word))))

    def tokens(
        self, text: str, language: str | None = None, *, region_words: bool = True
    ) -> list[Token]:
        """The tokens of a text; `language` None means try Swedish and English stems.

        `region_words` False drops "region", "län" …: in "BT i Region Halland" they only repeat
        the name, while in "byta region" the word itself is what is asked about.
        """
        result: list[Token] = []
        for word, raw, concept in self._words(text):
            if concept is not None:
                result.append(Token(word, ((CONCEPT_PREFIX + concept,),)))
                continue
            if word in STOPWORDS or word in _REGION_ONLY:
                continue
            if word in REGION_WORDS and not region_words:
                continue
            if len(word) < 2 and not word.isdigit():
                continue
            if "-" in word and self.synonyms.concept(word) is None:
                result.append(self._hyphenated(word, language))
                continue
            alternatives: list[tuple[str, ...]] = [
                (term,) for term in self.term(word, language, raw)
            ]
            if self.synonyms.concept(word, raw) is None:
                split = self.split_compound(word)
                if split is not None:
                    head, tail = split
                    alternatives.append(
                        (self.term(head, language)[0], self.term(tail, language)[0])
                    )
            result.append(Token(surface=word, alternatives=tuple(alternatives)))
        return result

    def _hyphenated(self, word: str, language: str | None) -> Token:
        """One token for "bt-kollegium": the joined word, or its parts together."""
        joined = word.replace("-", "")
        alternatives: list[tuple[str, ...]] = [(term,) for term in self.term(joined, language)]
        parts = tuple(
            self.term(part, language)[0]
            for part in _parts(word)
            if part not in STOPWORDS and (len(part) > 1 or part.isdigit())
        )
        if parts:
            alternatives.append(parts)
        return Token(surface=word, alternatives=tuple(alternatives), part_credit=1.0)

    def document_terms(self, text: str, language: str) -> list[str]:
        """Every term a knowledge-base text contributes, compounds with their parts."""
        terms: list[str] = []
        for token in self.tokens(text, language):
            for alternative in token.alternatives:
                terms.extend(alternative)
        return terms


def guess_language(text: str) -> str | None:
    """ "sv" or "en" when the function words say so clearly, else None."""
    found = words(text)
    sv = sum(1 for word in found if word in _SV_MARKERS)
    en = sum(1 for word in found if word in _EN_MARKERS)
    if sv >= en + 1 and sv >= 1:
        return "sv"
    if en >= sv + 1 and en >= 1:
        return "en"
    return None


_SV_MARKERS = _wordset(
    "vad vem vilka vilken vilket hur nar varfor ar och att jag min mitt mina det den som en ett "
    "pa av med till om har kan ska maste finns gor gors far inte mig hos nagon"
)
_EN_MARKERS = _wordset(
    "what who which how when where why is are the and to my me do does can must should there "
    "of in with have has need an it be any"
)
