"""Swedish word forms for the FAQ search: dictionary forms and the parts of compounds.

Lemmas come from simplemma ("kollegiet" → "kollegium", "handledarna" → "handledare", "gick" →
"gå"). Compounds are split with the Swedish Hunspell dictionary that the hunspell-sv package
installs: its words, its compound flags (may begin / may end a compound / only inside one) and
the suffix rules that make a word's compound-first form ("försäkring" → "försäkrings-"). A word
the dictionary lists whole is not split ("deltid" is not "del" + "tid", "studierektor" is not
"studie" + "rektor").

Both are loaded once per process and cached; neither reads anything from the network. Without the
dictionary (a broken install) `compound_lexicon()` is None and the caller falls back to splitting
by the knowledge base's own words.

Memory matters (every `btassist serve` process holds both): simplemma reads its Swedish
dictionary as a compressed front-coded stream (its `StreamDictionaryFactory`: 15 MB instead of
90), and the lexicon's large word lists are kept as sorted 64-bit hashes (8 bytes a word) read
line by line, so neither a whole dictionary nor a set of its strings is ever built.
"""

from __future__ import annotations

import logging
import re
import site
import sys
import sysconfig
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from pathlib import Path

from simplemma import Lemmatizer
from simplemma.strategies.default import DefaultStrategy
from simplemma.strategies.dictionaries.stream_dictionary_factory import StreamDictionaryFactory

from btassist.common.text import strip_accents

log = logging.getLogger(__name__)

DICTIONARY = Path("share") / "hunspell" / "sv_SE"
MIN_PART = 3
MIN_COMPOUND = 7
INFLECTIONS = ("", "en", "et", "n", "t", "na", "ar", "arna", "er", "erna", "or", "orna", "s")
"""Endings a compound's last word may carry ("psykiatri|placeringen"); the dictionary lists the
word itself."""

_FOLD = str.maketrans("åäöéèüáàâ", "aaoeeuaaa")


def fold_word(word: str) -> str:
    """A lower-case word without diacritics, as the search compares words."""
    folded = word.lower().translate(_FOLD)
    return folded if folded.isascii() else strip_accents(folded)


@lru_cache(maxsize=1)
def _lemmatizer() -> Lemmatizer:
    return Lemmatizer(
        # `lemma_sv` keeps the answers; a second cache of the same 65,536 inside simplemma would
        # only hold each lemma twice.
        cache_max_size=0,
        lemmatization_strategy=DefaultStrategy(dictionary_factory=StreamDictionaryFactory()),
    )


@lru_cache(maxsize=65536)
def lemma_sv(word: str) -> str:
    """The dictionary form of a lower-case Swedish word; the word itself when unknown."""
    lemma: str = _lemmatizer().lemmatize(word, lang="sv")
    return lemma.lower()


@lru_cache(maxsize=65536)
def lemma_en(word: str) -> str:
    """The dictionary form of a lower-case English word; the word itself when unknown."""
    lemma: str = _lemmatizer().lemmatize(word, lang="en")
    return lemma.lower()


class HashedWords:
    """A set of words for membership tests only, as sorted 64-bit hashes.

    Python's `hash` of a string is stable within a process, which is all the lexicon needs (it
    is built in the process that asks it); two of a few hundred thousand words sharing a 64-bit
    hash is too unlikely to matter for a search's word splitting.
    """

    __slots__ = ("_hashes",)

    def __init__(self, words: Iterable[str]) -> None:
        self._hashes = array("q", sorted({hash(word) for word in words}))

    @classmethod
    def of_hashes(cls, hashes: array[int]) -> HashedWords:
        """From the hashes of the words (as read, unsorted, with repeats).

        Sorted a bucket (the hash's top byte) at a time: `sorted(set(hashes))` in one go holds
        every hash as a Python int at once, plus the set, about 20 MB of peak memory for the
        Swedish dictionary whose sorted array is 2 MB.
        """
        buckets = [array("q") for _ in range(256)]
        for key in hashes:
            buckets[(key >> 56) + 128].append(key)  # top byte, -128..127, in sorting order
        made = cls(())
        for bucket in buckets:
            made._hashes.extend(sorted(set(bucket)))
        return made

    def __contains__(self, word: object) -> bool:
        return _place(self._hashes, hash(word)) is not None

    def __len__(self) -> int:
        return len(self._hashes)


def _place(hashes: array[int], key: int) -> int | None:
    """Where `key` is in the sorted `hashes`, or None."""
    at = bisect_left(hashes, key)
    return at if at < len(hashes) and hashes[at] == key else None


class FirstForms:
    """Forms that may begin a compound, each with the word it is a form of.

    Held without a Python object per form, like `HashedWords`: most forms are the word itself
    ("lakar") and are only hashes; the others ("forsakrings" → "forsakring") are hashes in
    sorted order with their words, in the same order, in one string. As a dict of strings, the
    Swedish dictionary's 43,000 forms cost a serve process 4 MB more: the strings, and the
    memory that building them left scattered between them.
    """

    __slots__ = ("_ends", "_itself", "_other", "_words")

    def __init__(self, words_of: dict[str, str]) -> None:
        self._itself = HashedWords(form for form, word in words_of.items() if form == word)
        other = sorted((hash(form), word) for form, word in words_of.items() if form != word)
        self._other = array("q", (key for key, _ in other))
        self._words = "".join(word for _, word in other)
        self._ends = array("q", accumulate(len(word) for _, word in other))

    def get(self, form: str) -> str | None:
        """The word `form` is the compound-first form of, or None."""
        at = _place(self._other, hash(form))
        if at is not None:
            return self._words[self._ends[at - 1] if at else 0 : self._ends[at]]
        return form if form in self._itself else None

    def __contains__(self, form: object) -> bool:
        return _place(self._other, hash(form)) is not None or form in self._itself

    def __len__(self) -> int:
        return len(self._itself) + len(self._other)


@dataclass(frozen=True)
class CompoundLexicon:
    """Folded words of the Swedish dictionary, as whole words and as compound parts."""

    words: HashedWords | frozenset[str]
    """Words the dictionary lists whole (long enough to look like a compound)."""
    heads: FirstForms
    """A form that may begin a compound → its word ("forsakrings" → "forsakring")."""
    tails: HashedWords | frozenset[str]
    """Words that may end a compound."""

    def is_word(self, word: str) -> bool:
        """Whether the dictionary lists the folded word, or it with an inflection ending."""
        return self._base(word, self.words) is not None

    def ends_compounds(self, word: str) -> bool:
        """Whether the folded word (or it with an inflection ending) may end a compound."""
        return self._base(word, self.tails) is not None

    def split(self, word: str, *, whole: bool = True) -> tuple[str, str] | None:
        """The folded compound's two words, the longest first part first; None for a word it
        cannot split, or (`whole` True) that the dictionary lists as a word of its own."""
        if len(word) < MIN_COMPOUND or not word.isalpha() or (whole and self.is_word(word)):
            return None
        cuts = range(len(word) - MIN_PART, MIN_PART - 1, -1)
        for cut in cuts:
            head = self.heads.get(word[:cut])
            if head is None:
                continue
            tail = self._base(word[cut:], self.tails)
            if tail is not None:
                return head, tail
        # Three words: the first part is itself a compound ("försäkringsmedicin|kursen").
        for cut in cuts:
            tail = self._base(word[cut:], self.tails)
            if tail is not None and self._compound_head(word[:cut]):
                return word[:cut], tail
        return None

    def _compound_head(self, head: str) -> bool:
        """Whether two compound-first forms make up `head`."""
        return any(
            head[:cut] in self.heads and head[cut:] in self.heads
            for cut in range(MIN_PART, len(head) - MIN_PART + 1)
        )

    @staticmethod
    def _base(word: str, known: HashedWords | frozenset[str]) -> str | None:
        for ending in INFLECTIONS:
            if ending and not word.endswith(ending):
                continue
            stem = word[: len(word) - len(ending)]
            if len(stem) >= MIN_PART and stem in known:
                return stem
        return None


def dictionary_path() -> Path | None:
    """Where hunspell-sv installed sv_SE.dic/.aff (the environment's data directory)."""
    prefixes = [Path(sysconfig.get_path("data")), Path(sys.prefix), Path(sys.base_prefix)]
    user_base = getattr(site, "USER_BASE", None)
    if user_base:
        prefixes.append(Path(user_base))
    prefixes.append(Path("/usr"))
    for prefix in prefixes:
        path = prefix / DICTIONARY
        if path.with_suffix(".dic").is_file() and path.with_suffix(".aff").is_file():
            return path
    return None


@lru_cache(maxsize=1)
def compound_lexicon() -> CompoundLexicon | None:
    """The Swedish dictionary's compound lexicon, or None when hunspell-sv is not installed."""
    path = dictionary_path()
    if path is None:
        log.warning("hunspell-sv dictionary not found: compounds split by the FAQ's own words")
        return None
    affixes = path.with_suffix(".aff").read_text("utf-8").splitlines()
    with path.with_suffix(".dic").open(encoding="utf-8") as lines:
        next(lines, None)  # the word count
        return read_lexicon(affixes, (line.rstrip("\n") for line in lines))


@dataclass(frozen=True)
class _FirstForm:
    """A suffix rule that makes a compound's first form: strip, add, on words matching cond."""

    strip: str
    add: str
    condition: re.Pattern[str]


def read_lexicon(affix_lines: Iterable[str], dictionary_lines: Iterable[str]) -> CompoundLexicon:
    """A compound lexicon from Hunspell .aff and .dic lines (single-character flags)."""
    flags: dict[str, str] = {}
    rules: dict[str, list[tuple[str, str, str, str]]] = {}
    for line in affix_lines:
        parts = line.split()
        if len(parts) == 2 and parts[0] in _FLAG_NAMES:
            flags[parts[0]] = parts[1]
        elif len(parts) >= 5 and parts[0] == "SFX":
            add, _, continuation = parts[3].partition("/")
            rules.setdefault(parts[1], []).append((parts[2], add, continuation, parts[4]))
    begin, middle = flags.get("COMPOUNDBEGIN", "\0"), flags.get("COMPOUNDMIDDLE", "\0")
    end, only_inside = flags.get("COMPOUNDEND", "\0"), flags.get("ONLYINCOMPOUND", "\0")
    first_forms = {
        flag: [
            _FirstForm(
                "" if strip == "0" else strip,
                "" if add == "0" else add,
                re.compile(f"(?:{condition})$"),
            )
            for strip, add, continuation, condition in found
            if begin in continuation or middle in continuation
        ]
        for flag, found in rules.items()
    }
    first_forms = {flag: found for flag, found in first_forms.items() if found}
    words = array("q")  # hashes: see HashedWords
    heads: dict[str, str] = {}
    tails = array("q")
    for line in dictionary_lines:
        entry = line.split(None, 1)[0] if line else ""
        word, _, word_flags = entry.partition("/")
        if len(word) < MIN_PART or not word.isalpha() or not word.islower():
            continue
        folded = fold_word(word)
        if only_inside not in word_flags and len(folded) >= MIN_PART:
            words.append(hash(folded))
        if begin in word_flags or middle in word_flags:
            heads.setdefault(folded, folded)
        if end in word_flags or middle in word_flags:
            tails.append(hash(folded))
        for flag in word_flags:
            for form in first_forms.get(flag, ()):
                if form.condition.search(word) and word.endswith(form.strip):
                    made = word[: len(word) - len(form.strip)] + form.add
                    heads.setdefault(fold_word(made), folded)
    return CompoundLexicon(
        HashedWords.of_hashes(words), FirstForms(heads), HashedWords.of_hashes(tails)
    )


_FLAG_NAMES = frozenset({"COMPOUNDBEGIN", "COMPOUNDMIDDLE", "COMPOUNDEND", "ONLYINCOMPOUND"})
