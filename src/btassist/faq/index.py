"""BM25 over stemmed Swedish and English, region-aware, that knows when it does not know.

Ranking is Okapi BM25 over an entry's question variants and keywords (its answer counts a
little). Whether to answer at all is decided by *coverage*: the share of the question's
informative words (weighted by rarity) that the best entry contains. A question made of words the
knowledge base has never seen ("lunch", "lön") covers little of any entry and is not answered;
an entry far ahead of every other topic, holding a BT concept the question names, is answered
(as probable) even when it covers less.
Two safety rules then prefer offering topics to a possibly wrong answer: the answer's topic must
mention every BT concept the question names, and an entry of the region the question names that
scores close behind another scope's is offered alongside it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from btassist.common.text import fold
from btassist.faq.calibration import Calibration, Evidence, packaged_calibration
from btassist.faq.kb import NATIONAL, Coverage, DeclinedTopic, Entry, iter_entry_texts
from btassist.faq.morphology import CompoundLexicon, compound_lexicon
from btassist.faq.text import (
    COMPOUND_CREDIT,
    CONCEPT_PREFIX,
    GENERAL_WORDS,
    PLACE_NAMES,
    QUESTION_WORDS,
    STOPWORDS,
    Analyser,
    Synonyms,
    Token,
    asks_locally,
    asks_nationally,
    guess_language,
    plain_words,
    regions_named,
    word_pairs,
    words,
)

K1 = 1.2
B = 0.5
FIELD_WEIGHTS: Mapping[str, float] = {"question": 1.0, "keyword": 1.0, "answer": 0.25}
BM25_SHARE = 0.4
"""The ranking score blends BM25 over the whole entry with similarity to its closest variant."""
REGION_BONUS = 0.03
"""A regional entry of the asker's (or the named) region outranks a national one on a near tie."""
NAMED_REGION_BONUS = 0.25
"""A question that names a region ("… i Jönköping?") is most likely about that region's entries."""
IDF_FLOOR = 1.0
"""Even a word every entry has ("BT") says something about the question."""
UNKNOWN_WEIGHT = 0.7
"""A word the knowledge base has never seen counts against every entry, almost as a rare word."""
ANSWER_ONLY_CREDIT = 0.6
"""A word only the answer mentions covers the question less than one the entry is asked about."""
SHORT_WORD = 3
SHORT_UNKNOWN_WEIGHT = 0.3
TYPO_WEIGHT = 0.8
TYPO_MIN_LENGTH = 7
TYPO_TWO_LENGTH = 10
KEYWORD_FACTOR = 0.85
RERANKED = 15
"""Only the best entries by BM25 are compared variant by variant."""
NEAR_WORDS_SWAPPED = 2
"""A question of function words alone is nearly a variant that differs by one word swapped."""
LIMIT_TERMS = frozenset({CONCEPT_PREFIX + "minst", CONCEPT_PREFIX + "max"})
"""A question about a limit asks for the rule, which a region's schedule does not state."""
QUESTION_WORD_WEIGHT = 0.5
"""Question words separate "what" from "when" but must not carry an answer on their own."""


@dataclass(frozen=True)
class Thresholds:
    """When an answer is confident enough to give (calibrated on the evaluation set)."""

    min_coverage: float = 0.6
    """Below this share of the question's words in the entry, never answer confidently."""
    similarity: float = 0.65
    """Close enough to one of the entry's question variants."""
    coverage: float = 0.75
    similarity_with_coverage: float = 0.4
    """Or: nearly every word of the question is in the entry, and it resembles a variant …"""
    margin: float = 0.15
    """… or stands clearly ahead of the next entry."""
    min_margin: float = 0.04
    """Two different entries this close are a coin toss: offer both instead."""
    named_region_margin: float = 0.15
    """An entry of the region the question names this close behind another scope's: offer both."""
    min_matched_words: int = 2
    """Fewer informative words of the question in the entry ("byta region", "semester" …) is one
    shared word, not a shared topic: offer the entry instead of answering …"""
    near_variant: float = 85.0
    """… unless the question is nearly one of the entry's own variants (fuzzy ratio, 0–100)."""
    probable_coverage: float = 0.6
    probable_similarity: float = 0.25
    """Not confident, but this much of the question is in the entry and it resembles one of its
    questions: answer, saying which question the answer is for …"""
    probable_margin: float = 0.2
    probable_margin_similarity: float = 0.4
    probable_margin_coverage: float = 0.3
    """… or less of it, but the entry resembles one of its questions and stands well ahead …"""
    probable_one_word_coverage: float = 0.9
    """… with one informative word of the question in the entry only if that word is nearly
    all the question says …"""
    probable_coverage_unknown: float = 0.6
    probable_similarity_unknown: float = 0.4
    """… or, when the question has a word the knowledge base has never seen, only this close."""
    clear_lead_margin: float = 0.2
    clear_lead_similarity: float = 0.4
    clear_lead_coverage: float = 0.3
    """… or the entry stands this far ahead of every other topic, resembles one of its questions
    and holds a fair share of the question, with no word the knowledge base has never seen: a
    clear lead on the ranking deserves a (probable) answer even when only one word is shared
    (calibrated across all development sets; the abstentions it removes had the right entry
    first) …"""
    shared_lead_margin: float = 0.15
    shared_lead_coverage: float = 0.4
    """… or a smaller lead, when the entry holds two informative words of the question or more
    and this share of it."""
    rival_margin: float = 0.1
    """An entry this close behind the best one, that mentions every BT concept of the question
    when the best one does not, is the better (probable) answer."""
    overview_margin: float = 0.15
    """An entry of the asker's (or the named) region this close behind a national overview
    answers instead: the overview only says that regions differ."""


@dataclass(frozen=True)
class Hit:
    """An entry and how well it matches a question."""

    entry: Entry
    score: float
    """The ranking score: BM25 (scaled to the best hit) blended with `similarity`."""
    coverage: float
    """Share of the question's informative words the entry contains."""
    similarity: float = 0.0
    """Weighted Dice overlap with the entry's closest question variant."""
    via: Entry | None = None
    """The national entry the question matched, when this regional entry stands in for it."""

    @property
    def matched(self) -> Entry:
        """The entry whose words the question matched."""
        return self.via or self.entry


class Level(StrEnum):
    """How sure the FAQ is of its best entry, and so what the bot does with it."""

    confident = "confident"
    """Answer with the entry."""
    probable = "probable"
    """Answer, but say which question the answer is for, and offer the next topics."""
    unsure = "unsure"
    """Do not answer: offer the closest topics and a person."""


@dataclass(frozen=True)
class SearchResult:
    """The ranked entries a question may be about and how sure the FAQ is of the best one."""

    question: str
    hits: tuple[Hit, ...]
    level: Level
    declined: str | None = None
    """The id of a declined topic the question is about (never answered from the FAQ)."""
    language: str | None = None
    """The language the question is written in, when clear."""
    region: str | None = None
    """The region the question is about: the one it names, else the asker's. Its people are the
    ones to ask when the FAQ does not answer."""
    evidence: Evidence | None = None
    """When unsure of a best entry: what the fitted calibration weighed (to fit it again)."""

    @property
    def confident(self) -> bool:
        """Whether the best entry answers the question for certain."""
        return self.level is Level.confident

    @property
    def best(self) -> Hit | None:
        """The top entry, whatever the level."""
        return self.hits[0] if self.hits else None

    @property
    def answer(self) -> Hit | None:
        """The entry to answer with, only when confident."""
        return self.best if self.level is Level.confident else None

    @property
    def proposed(self) -> Hit | None:
        """The entry to answer with when confident or probable."""
        return self.best if self.level is not Level.unsure else None

    def interpretation(self, language: str) -> str | None:
        """For a probable answer, the question it answers (the entry's own question)."""
        if self.level is not Level.probable or self.best is None:
            return None
        return self.best.entry.title(language)

    def closest(self, count: int = 2) -> tuple[Hit, ...]:
        """The nearest topics to offer when not answering, one entry per topic."""
        return _topics(self.hits, count)

    def alternatives(self, count: int = 2) -> tuple[Hit, ...]:
        """The next topics after the answer, for "Not what I asked": other topics than the
        answer's (not the national entry the answer stands in for)."""
        return _topics(self.hits, count + 1)[1:]


def _topics(hits: Sequence[Hit], count: int) -> tuple[Hit, ...]:
    """The first `count` hits on different topics."""
    chosen: list[Hit] = []
    for hit in hits:
        if len(chosen) == count:
            break
        if hit.score > 0 and not any(_same_topic(hit.entry, other.entry) for other in chosen):
            chosen.append(hit)
    return tuple(chosen)


@dataclass(frozen=True)
class _Variant:
    """A question variant as weighted groups of terms (one group per word)."""

    groups: tuple[tuple[frozenset[str], frozenset[str]], ...]
    """Per word: the terms of the whole word, and of its parts (compounds, hyphenated words)."""
    terms: frozenset[str]
    weights: tuple[float, ...]
    total: float
    factor: float = 1.0
    """Below 1 for a keyword: a single matching word is weaker evidence than a whole question."""


@dataclass(frozen=True)
class _Query:
    """A question's tokens and their weights, computed once per search."""

    tokens: tuple[Token, ...]
    weights: tuple[float, ...]
    coverage_weights: tuple[float, ...]
    terms: frozenset[str]
    total: float
    matchers: tuple[tuple[float, frozenset[str], tuple[tuple[frozenset[str], float], ...]], ...]
    """Per token: its weight, its one-word terms, and its compounds' parts with the credit each
    matching part earns."""
    incidental: frozenset[str] = frozenset()
    """Numbers and names ("2019", "Lund"): details of a question, never its missing topic."""


@dataclass
class _Document:
    entry: Entry
    tf: dict[str, float] = field(default_factory=dict)
    length: float = 0.0
    variants: list[_Variant] = field(default_factory=list)
    asked: set[str] = field(default_factory=set)
    """Terms of the questions and keywords: what the entry is about, not just mentions."""
    phrasings: tuple[str, ...] = ()
    """The entry's question variants, normalised as `_normalised` does a question."""


class FaqIndex:
    """An immutable search index over a knowledge base's entries."""

    def __init__(
        self,
        entries: Sequence[Entry],
        *,
        declined: Iterable[DeclinedTopic] = (),
        synonyms: Mapping[str, tuple[str, ...]] | None = None,
        thresholds: Thresholds | None = None,
        compounds: CompoundLexicon | None = None,
        calibration: Calibration | None = None,
    ) -> None:
        """`compounds` defaults to the Swedish dictionary's (loaded once per process),
        `calibration` to the packaged one (`Calibration.never()`: the rules alone)."""
        self.thresholds = thresholds or Thresholds()
        self.calibration = calibration or packaged_calibration()
        self.analyser = Analyser(Synonyms(synonyms or {}), compounds or compound_lexicon())
        self.analyser.learn(text for entry in entries for _, _, text in iter_entry_texts(entry))
        self.documents: list[_Document] = []
        df: Counter[str] = Counter()
        for entry in entries:
            document = _Document(entry)
            for field_name, language, text in iter_entry_texts(entry):
                weight = FIELD_WEIGHTS[field_name]
                for term in self.analyser.document_terms(text, language or "sv"):
                    document.tf[term] = document.tf.get(term, 0.0) + weight
                    document.length += weight
                    if field_name != "answer":
                        document.asked.add(term)
            # Question variants, and keywords as short variants of their own ("StAS").
            phrasings = [
                *((q, "sv") for q in entry.questions.sv),
                *((q, "en") for q in entry.questions.en),
                *((k, None) for k in entry.keywords),
            ]
            for phrasing, phrasing_language in phrasings:
                groups = tuple(
                    (
                        frozenset(alt[0] for alt in token.alternatives if len(alt) == 1),
                        frozenset(t for alt in token.alternatives if len(alt) > 1 for t in alt),
                    )
                    for token in self.analyser.tokens(phrasing, phrasing_language)
                )
                if groups:
                    terms = frozenset(t for whole, parts in groups for t in whole | parts)
                    factor = 1.0 if phrasing_language else KEYWORD_FACTOR
                    document.variants.append(_Variant(groups, terms, (), 0.0, factor))
            document.phrasings = tuple(
                _normalised(q) for q in (*entry.questions.sv, *entry.questions.en)
            )
            df.update(document.tf.keys())
            self.documents.append(document)
        count = len(self.documents)
        self.average_length = sum(d.length for d in self.documents) / max(count, 1)
        self.idf = {term: math.log(1 + (count - n + 0.5) / (n + 0.5)) for term, n in df.items()}
        self.unknown_idf = math.log(1 + (count - 0.5) / 1.5) if count else 1.0
        self.by_id = {d.entry.id: d.entry for d in self.documents}
        self._refiners: dict[tuple[str, str], tuple[str, ...]] = {}
        for entry in entries:
            for refined in entry.refines:
                key = (refined, entry.scope)
                self._refiners[key] = (*self._refiners.get(key, ()), entry.id)
        self._documents_by_id = {d.entry.id: d for d in self.documents}
        self._bt_terms = frozenset(self.analyser.term("bt", None))
        self._question_terms = frozenset(
            t for word in QUESTION_WORDS for t in self.analyser.term(word, None)
        )
        postings: dict[str, list[int]] = {}
        for position, document in enumerate(self.documents):
            for term in document.tf:
                postings.setdefault(term, []).append(position)
            document.variants = [
                _Variant(v.groups, v.terms, weights, sum(weights), v.factor)
                for v in document.variants
                for weights in [tuple(self._group_weight(group) for group in v.groups)]
            ]
        self._postings = {term: tuple(found) for term, found in postings.items()}
        self._defining = {
            document.entry.id: _defining_concepts(document.variants, self._bt_terms)
            for document in self.documents
        }
        self._topic_terms = {
            document.entry.id: frozenset(
                term
                for other in self.documents
                if _same_topic(document.entry, other.entry)
                for term in other.tf
            )
            for document in self.documents
        }
        # Typos are repaired towards the knowledge base's words and the synonyms' words.
        self._surfaces = sorted(
            self.analyser.lexicon
            | {
                word
                for surfaces in (synonyms or {}).values()
                for surface in surfaces
                for word in words(surface)
                if len(word) >= TYPO_MIN_LENGTH
            }
        )
        self._declined = [
            (topic.id, re.compile("|".join(_term_pattern(term) for term in topic.terms)))
            for topic in declined
        ]

    # --- questions ------------------------------------------------------------------------------

    def _known(self, token: Token) -> bool:
        return any(all(t in self.idf for t in alt) for alt in token.alternatives)

    def _nearest(self, word: str) -> str | None:
        """The word of the knowledge base (or of its synonyms) one or two typos away."""
        # Short words differ by one letter all the time ("deltid" is not "heltid").
        if len(word) < TYPO_MIN_LENGTH or word.isdigit() or "-" in word:
            return None
        typos = 2 if len(word) >= TYPO_TWO_LENGTH else 1
        found = process.extractOne(word, self._surfaces, scorer=OSA.distance, score_cutoff=typos)
        return None if found is None else str(found[0])

    def query_tokens(self, question: str, *, region_words: bool = True) -> list[Token]:
        """The question's tokens, with unknown words repaired where a near word exists (before
        multi-word synonyms are read: "external assesors" is "external assessors")."""
        tokens = self.analyser.tokens(question, region_words=region_words)
        fixes = {
            token.surface: fixed
            for token in tokens
            if not self._known(token) and (fixed := self._nearest(token.surface)) is not None
        }
        if fixes:
            repaired = " ".join(fixes.get(folded, raw) for folded, raw in word_pairs(question))
            tokens = [
                Token(token.surface, token.alternatives, TYPO_WEIGHT)
                if token.surface in fixes.values() and token.surface not in fixes
                else token
                for token in self.analyser.tokens(repaired, region_words=region_words)
            ]
        return [
            Token(token.surface, token.alternatives, QUESTION_WORD_WEIGHT)
            if token.surface in QUESTION_WORDS
            else token
            for token in tokens
            # A city the knowledge base never mentions ("Växjö") only names the region.
            if token.surface not in PLACE_NAMES or self._known(token)
        ]

    def knows(self, word: str) -> bool:
        """Whether a word means something to the knowledge base: one of its words or concepts (or
        a typo of one), or a declined topic's. Text none of whose words it knows is no question
        the FAQ could help with ("asdkjh qwe")."""
        return self.spells(word) or self._nearest(fold(word)) is not None

    def spells(self, word: str) -> bool:
        """Whether a word is one of the knowledge base's words or concepts as typed (in any of
        its forms) or a declined topic's: "register" is, its typo "regster" is not."""
        if any(self._known(token) for token in self.analyser.tokens(word)):
            return True
        return self._declined_topic(word) is not None

    def _idf(self, term: str) -> float:
        return max(self.idf.get(term, self.unknown_idf), IDF_FLOOR)

    def _token_weight(self, token: Token, incidental: frozenset[str] = frozenset()) -> float:
        known = [
            sum(self._idf(t) for t in alt) / len(alt)
            for alt in token.alternatives
            if all(t in self.idf for t in alt)
        ]
        if known:
            return token.weight * max(known)
        # An unseen short word ("ny", "ok"), number ("2018") or name ("Lund") is more likely
        # chatter or a detail than a missing topic.
        short = len(token.surface) <= SHORT_WORD or token.surface in incidental
        return token.weight * self.unknown_idf * (SHORT_UNKNOWN_WEIGHT if short else UNKNOWN_WEIGHT)

    def _group_weight(self, group: tuple[frozenset[str], frozenset[str]]) -> float:
        whole, parts = group
        weight = max((self._idf(t) for t in whole or parts), default=0.0)
        return weight * (QUESTION_WORD_WEIGHT if whole & self._question_terms else 1.0)

    def _bm25(self, document: _Document, query: _Query) -> tuple[float, float]:
        """BM25 of the question against the entry, and the weighted share of words covered."""
        norm = K1 * (1 - B + B * document.length / self.average_length)
        score = covered = 0.0
        for token, weight in zip(query.tokens, query.coverage_weights, strict=True):
            best_score = best_share = 0.0
            for alternative in token.alternatives:
                part_score = credit = 0.0
                for term in alternative:
                    tf = document.tf.get(term, 0.0)
                    if tf:
                        part_score += self._idf(term) * tf * (K1 + 1) / (tf + norm)
                        credit += 1.0 if term in document.asked else ANSWER_ONLY_CREDIT
                if part_score:
                    best_score = max(best_score, part_score / len(alternative))
                    whole = 1.0 if len(alternative) == 1 else token.part_credit
                    best_share = max(best_share, whole * credit / len(alternative))
            score += token.weight * best_score
            covered += weight * best_share
        total = sum(query.coverage_weights)
        return score, (covered / total if total else 0.0)

    def _similarity(self, document: _Document, query: _Query) -> float:
        """Weighted Dice overlap between the question and the entry's closest question variant."""
        best = 0.0
        for variant in document.variants:
            terms = variant.terms
            if terms.isdisjoint(query.terms):
                continue
            matched_query = 0.0
            for weight, singles, compounds in query.matchers:
                if not terms.isdisjoint(singles):
                    matched_query += weight
                    continue
                share = 0.0
                for parts, credit in compounds:
                    found = len(terms.intersection(parts))
                    if found:
                        share = max(share, credit * found)
                matched_query += weight * share
            matched_variant = 0.0
            for (whole, parts), weight in zip(variant.groups, variant.weights, strict=True):
                if not whole.isdisjoint(query.terms):
                    matched_variant += weight
                elif parts:
                    matched_variant += (
                        weight * COMPOUND_CREDIT * len(parts & query.terms) / len(parts)
                    )
            total = query.total + variant.total
            if total:
                best = max(best, variant.factor * (matched_query + matched_variant) / total)
        return best

    def _query(self, question: str, *, region_words: bool) -> _Query:
        tokens = self.query_tokens(question, region_words=region_words)
        incidental = _incidental(question) | {
            token.surface for token in tokens if _general(token.surface)
        }
        weights = tuple(self._token_weight(token, incidental) for token in tokens)
        return _Query(
            tokens=tuple(tokens),
            weights=weights,
            # Question words rank ("när" vs "vad") but say nothing about the topic: no coverage.
            # … nor do everyday words ("read", "based on", "offer"): they never name what it is
            # about, even where an answer happens to use them.
            coverage_weights=tuple(
                0.0 if token.surface in QUESTION_WORDS or _general(token.surface) else weight
                for token, weight in zip(tokens, weights, strict=True)
            ),
            terms=frozenset(t for token in tokens for alt in token.alternatives for t in alt),
            total=sum(weights),
            incidental=incidental,
            matchers=tuple(
                (
                    weight,
                    frozenset(alt[0] for alt in token.alternatives if len(alt) == 1),
                    tuple(
                        (frozenset(alt), token.part_credit / len(alt))
                        for alt in token.alternatives
                        if len(alt) > 1
                    ),
                )
                for token, weight in zip(tokens, weights, strict=True)
            ),
        )

    def search(self, question: str, *, region: str | None = None) -> SearchResult:
        """Rank entries for `question` asked by someone in `region` (None: national only), and
        say how sure the best one is.

        The asker's region is the default; a region the question names replaces it; entries of
        any other region do not count. An entry of that region stands in for the national
        entries it refines, and beats a close national overview.
        """
        named = regions_named(question)
        if not named and region and asks_locally(question):
            named = frozenset({region})  # "hos oss": the asker's region, as if named
        # A question about the national rule ("nationellt krav?") is answered nationally.
        nationwide = not named and asks_nationally(question)
        local = set(named) if named else ({region} if region and not nationwide else set())
        about = next(iter(named)) if len(named) == 1 else region
        language = guess_language(question)
        topic_id = self._declined_topic(question)
        if topic_id is not None:
            return SearchResult(
                question, (), Level.unsure, topic_id, language=language, region=about
            )
        # "Region" is a search term unless it only introduces a name ("Region Halland").
        query = self._query(question, region_words=not named)
        hits = self._ranked(query, {NATIONAL} | local, named)
        if not hits:
            return SearchResult(question, (), Level.unsure, language=language, region=about)
        hits = self._regional_first(hits, local, query)
        level = self._level(hits, query, question, named, local)
        if isinstance(level, Evidence):
            return SearchResult(
                question, tuple(hits), Level.unsure, language=language, region=about, evidence=level
            )
        return SearchResult(question, tuple(hits), level, language=language, region=about)

    def _declined_topic(self, question: str) -> str | None:
        """The declined topic the question is about, by its words and its compounds' last parts
        ("personalmatsalen" is about the "matsal")."""
        found = words(question)
        tails = [
            split[1]
            for word in found
            if (split := self.analyser.split_compound(word, whole=False)) is not None
        ]
        text = " ".join([*found, *tails]).replace("-", " ")
        return next((topic for topic, pattern in self._declined if pattern.search(text)), None)

    def _ranked(self, query: _Query, eligible: set[str], named: frozenset[str]) -> list[Hit]:
        """The eligible entries sharing a term with the question, best first."""
        candidates = {position for term in query.terms for position in self._postings.get(term, ())}
        scored: list[tuple[_Document, float, float]] = []
        for position in candidates:
            document = self.documents[position]
            if document.entry.scope in eligible:
                bm25, coverage = self._bm25(document, query)
                if bm25 > 0:
                    scored.append((document, bm25, coverage))
        scored.sort(key=lambda item: -item[1])
        del scored[RERANKED:]
        top_bm25 = scored[0][1] if scored else 1.0
        hits = []
        for document, bm25, coverage in scored:
            similarity = self._similarity(document, query)
            score = BM25_SHARE * bm25 / top_bm25 + (1 - BM25_SHARE) * similarity
            if document.entry.scope in named:
                score += NAMED_REGION_BONUS
            elif document.entry.scope != NATIONAL:
                score += REGION_BONUS
            hits.append(Hit(document.entry, score, coverage, similarity))
        hits.sort(key=lambda hit: (-hit.score, hit.entry.id))
        return hits

    def _regional_first(self, hits: list[Hit], local: set[str], query: _Query) -> list[Hit]:
        """The region's own entry first when the best is a national entry it refines (matched or
        not: it answers the same questions for that region) and says what the question names
        that the national entry says, or a national overview it is close behind."""
        best = hits[0]
        if best.entry.scope != NATIONAL or not local:
            return hits
        standing_in = next(
            (
                self.by_id[entry_id]
                for scope in sorted(local)
                for entry_id in self._refiners.get((best.entry.id, scope), ())
            ),
            None,
        )
        if standing_in is not None and not self._leaves_out(standing_in, best.entry, query):
            own = next((hit for hit in hits if hit.entry.id == standing_in.id), best)
            rest = [hit for hit in hits if hit is not own]
            # It answers its own questions and the national entry's: the stronger match counts.
            via = None if own is not best and own.coverage >= best.coverage else best.entry
            return [
                Hit(
                    standing_in,
                    best.score,
                    max(best.coverage, own.coverage),
                    max(best.similarity, own.similarity),
                    via,
                ),
                *rest,
            ]
        if best.entry.applies is Coverage.overview:
            close = next(
                (
                    hit
                    for hit in hits[1:]
                    if hit.entry.scope in local
                    and best.score - hit.score < self.thresholds.overview_margin
                ),
                None,
            )
            if close is not None:
                return [close, *(hit for hit in hits if hit is not close)]
        return hits

    def _level(
        self,
        hits: list[Hit],
        query: _Query,
        question: str,
        named: frozenset[str],
        local: set[str],
    ) -> Level | Evidence:
        """Confident, probable or unsure about `hits[0]`; a plausible rival moves to second place,
        first among the topics offered instead. Unsure after the fitted calibration's look too:
        the evidence it weighed."""
        limits = self.thresholds
        best = hits[0]
        margin = best.score - _runner_up(best, hits)
        confident = self._confident(best, margin)
        if confident and not self._shares_topic(best.matched, query, question):
            confident = False
        if confident and _asks_otherwise(question, best.matched):
            confident = False  # "what certificates …" is not "who issues the certificate"
        if confident and _speaks_as_another(question, best.matched):
            confident = False  # "… har jag som handledare": asked as a supervisor
        # Safety rules: a wrong answer is worse than none, so a plausible rival means "not sure".
        rival = self._uncovered_rival(best, hits, query) or _named_region_rival(
            best, hits, named, self.thresholds.named_region_margin
        )
        if rival is best:
            return Level.unsure  # the question names a BT concept no entry's topic covers
        if rival is not None:
            confident = False
            hits.remove(rival)
            if best.score - rival.score < limits.rival_margin and self._covers_all(rival, query):
                # Close behind, and about everything the question names: the better answer.
                hits.insert(0, rival)
                hits[:] = self._regional_first(hits, local, query)  # the region's own, if any
                best = hits[0]
                margin = best.score - _runner_up(best, hits)
            else:
                hits.insert(1, rival)
        if confident and self._misses_defining_concept(best.matched, query):
            # "hur många månader måste BT minst vara" against an entry every question of which
            # is about ST: likely, not certain.
            return Level.probable
        if confident and self._asked_only_in_answer(best.matched, query):
            # "hur söker jag ST …" names "söka" that only the answer mentions ("ansöka om
            # intyg"): likely, not certain; say which question the answer is for.
            return Level.probable
        if confident:
            return Level.confident
        if self._probable(best, query, question, margin):
            return Level.probable
        if rival is not None:
            return Level.unsure  # the safety rules stand: a plausible rival is offered beside it
        evidence = self._evidence(best, margin, query, question)
        return Level.probable if self.calibration.likely(evidence) else evidence

    def _evidence(self, best: Hit, margin: float, query: _Query, question: str) -> Evidence:
        """What the search knows about its best entry, for the fitted calibration."""
        return Evidence(
            score=best.score,
            coverage=best.coverage,
            similarity=best.similarity,
            margin=margin,
            matched_words=min(self._matched_words(best.matched, query), 4),
            unknown_word=float(self._misses_unknown_word(query)),
            concept=float(self._matches_concept(best.matched, query)),
            shared_topic=float(self._shares_topic(best.matched, query, question)),
            informative_words=min(sum(1 for weight in query.coverage_weights if weight > 0), 8),
        )

    def _misses_defining_concept(self, entry: Entry, query: _Query) -> bool:
        """Whether every question of the entry names a BT concept (besides BT itself) that the
        question does not: then the entry is about something the question never says."""
        return not self._defining[entry.id] <= query.terms

    def _asked_only_in_answer(self, entry: Entry, query: _Query) -> bool:
        """Whether a BT concept the question names is in the entry's answer but in none of its
        questions or keywords: the entry mentions it, it is not what the entry is about."""
        asked = self._documents_by_id[entry.id].asked
        return any(
            weight > 0
            and _is_concept(token)
            and not any(all(t in asked for t in alt) for alt in token.alternatives)
            for token, weight in zip(query.tokens, query.coverage_weights, strict=True)
        )

    def _probable(self, hit: Hit, query: _Query, question: str, margin: float) -> bool:
        """Whether the best entry is likely enough to answer with, saying which question it
        answers: most of the question's words are in it, one of them a topic word, and a word
        the knowledge base has never seen ("föräldraledighet") is left out only when the entry
        matches the rest closely."""
        limits = self.thresholds
        matched = self._matched_words(hit.matched, query)
        if self._leads_clearly(hit, query, margin, matched):
            return True
        if matched < 1:
            # Function words and "BT" only ("vilka måste göra BT"): nearly one of its questions.
            return not set(_normalised(question).split()) - {
                "bt"
            } - QUESTION_WORDS and self._shares_topic(hit.matched, query, question)
        # One shared word ("byta" of "byta specialitet", "legitimation" of "hur länge gäller
        # min legitimation") is not a shared topic, unless it is nearly all the question says
        # or the question is nearly one of the entry's own.
        if (
            matched == 1
            and hit.coverage < limits.probable_one_word_coverage
            and not self._shares_topic(hit.matched, query, question)
        ):
            return False
        if self._misses_unknown_word(query):
            return (
                hit.coverage >= limits.probable_coverage_unknown
                and hit.similarity >= limits.probable_similarity_unknown
            )
        return (
            hit.coverage >= limits.probable_coverage
            and hit.similarity >= limits.probable_similarity
        ) or (
            margin >= limits.probable_margin
            and hit.similarity >= limits.probable_margin_similarity
            and hit.coverage >= limits.probable_margin_coverage
        )

    def _leads_clearly(self, hit: Hit, query: _Query, margin: float, matched: int) -> bool:
        """Whether the ranking alone deserves a probable answer: the entry is well ahead of every
        other topic, holds a BT concept the question names, and the question has no word the
        knowledge base has never seen (that word would be what it asks about)."""
        limits = self.thresholds
        if self._misses_unknown_word(query) or not self._matches_concept(hit.matched, query):
            return False
        return (
            margin >= limits.clear_lead_margin
            and hit.similarity >= limits.clear_lead_similarity
            and hit.coverage >= limits.clear_lead_coverage
        ) or (
            margin >= limits.shared_lead_margin
            and matched >= limits.min_matched_words
            and hit.coverage >= limits.shared_lead_coverage
        )

    def _leaves_out(self, regional: Entry, national: Entry, query: _Query) -> bool:
        """Whether the question asks for a limit (minimum, maximum) the national entry states and
        the region's entry does not ("3 mån akut minimum?": the national minimum, not the
        region's schedule)."""
        mine = self._documents_by_id[regional.id].tf
        theirs = self._documents_by_id[national.id].tf
        return any(
            weight > 0 and term in LIMIT_TERMS and term in theirs and term not in mine
            for token, weight in zip(query.tokens, query.coverage_weights, strict=True)
            for alt in token.alternatives
            for term in alt
        )

    def _matches_concept(self, entry: Entry, query: _Query) -> bool:
        """Whether the entry contains a BT concept the question names, besides BT itself
        ("IUP", "psyk", "kollegium"): a shared verb ("byta region") is no shared topic."""
        document = self._documents_by_id[entry.id]
        return any(
            weight > 0
            and _is_concept(token)
            and any(
                all(t in document.tf for t in alt) and not set(alt) <= self._bt_terms
                for alt in token.alternatives
            )
            for token, weight in zip(query.tokens, query.coverage_weights, strict=True)
        )

    def _misses_unknown_word(self, query: _Query) -> bool:
        """Whether a word of the question that no entry has (nor a typo of one, nor a part
        of it) is long enough to be a topic of its own."""
        return any(
            weight > 0
            and len(token.surface) > SHORT_WORD
            and token.surface not in query.incidental
            and not any(term in self.idf for alt in token.alternatives for term in alt)
            for token, weight in zip(query.tokens, query.coverage_weights, strict=True)
        )

    def _unknown_word_leads(self, query: _Query) -> bool:
        """Whether the question's weightiest word, cities aside, is one no entry has (nor a
        typo of one, nor its parts): then that word is what it asks about."""
        weighed = [
            (weight, token)
            for token, weight in zip(query.tokens, query.coverage_weights, strict=True)
            if weight > 0 and token.surface not in PLACE_NAMES
        ]
        if not weighed:
            return False
        _, token = max(weighed, key=lambda item: item[0])
        return (
            len(token.surface) > SHORT_WORD
            and token.surface not in query.incidental
            and not any(term in self.idf for alt in token.alternatives for term in alt)
        )

    def _covers(self, entry: Entry, token: Token) -> bool:
        """Whether the entry's topic (the overview and its refinements) mentions the word."""
        terms = self._topic_terms[entry.id]
        return any(all(term in terms for term in alt) for alt in token.alternatives)

    def _uncovered_rival(self, best: Hit, hits: Sequence[Hit], query: _Query) -> Hit | None:
        """The best entry on another topic that mentions a BT concept the question names and the
        top entry's topic does not ("… från Ukraina … legitimation …": who must do BT, not only
        the licence), or the top entry itself when no other entry mentions it either."""
        missed = [
            token
            for token, weight in zip(query.tokens, query.coverage_weights, strict=True)
            if weight > 0 and _is_concept(token) and not self._covers(best.entry, token)
        ]
        if not missed:
            return None
        others = [hit for hit in hits if not _same_topic(hit.entry, best.entry)]
        return (
            next((hit for hit in others if all(self._covers(hit.entry, t) for t in missed)), None)
            or next(
                (hit for hit in others if any(self._covers(hit.entry, t) for t in missed)), None
            )
            or best
        )

    def _covers_all(self, hit: Hit, query: _Query) -> bool:
        """Whether the entry's topic mentions every BT concept the question names."""
        return all(
            self._covers(hit.entry, token)
            for token, weight in zip(query.tokens, query.coverage_weights, strict=True)
            if weight > 0 and _is_concept(token)
        )

    def _shares_topic(self, entry: Entry, query: _Query, question: str) -> bool:
        """Whether the entry contains at least two informative words of the question (not
        question words, nor "BT" that every entry has), or the question is nearly one of its
        variants ("Vad är DOPS?")."""
        if self._matched_words(entry, query) >= self.thresholds.min_matched_words:
            return True
        asked = _normalised(question)
        if not set(asked.split()) - {"bt"}:
            # Only function words and "BT" ("måste alla göra BT?", "kan man göra om BT?"): the
            # function words are what it asks, so a variant must say them, one word swapped at
            # most ("alla" for "jag").
            said = set(words(question))
            return any(
                len(said ^ set(words(variant))) <= NEAR_WORDS_SWAPPED
                for variant in (*entry.questions.sv, *entry.questions.en)
            )
        words_asked = set(asked.split()) | QUESTION_WORDS | {"bt"}
        return any(
            fuzz.token_set_ratio(asked, phrasing) >= self.thresholds.near_variant
            # A short question inside a longer variant ("intyg bt", "bt utomlands" in "utbildad
            # utomlands … bt") is not nearly that variant.
            and set(phrasing.split()) <= words_asked
            for phrasing in self._documents_by_id[entry.id].phrasings
        )

    def _matched_words(self, entry: Entry, query: _Query) -> int:
        """Informative words of the question the entry contains (not question words, nor "BT"
        that every entry has). When the weightiest word beside the cities is one the knowledge
        base has never seen, a city is not one either: "pendlarbuss till sjukhuset i Halmstad"
        asks about the bus, and only says where."""
        document = self._documents_by_id[entry.id]
        places = PLACE_NAMES if self._unknown_word_leads(query) else frozenset()
        return sum(
            1
            for token, weight in zip(query.tokens, query.coverage_weights, strict=True)
            if weight > 0
            and token.surface not in places
            and not all(set(alt) <= self._bt_terms for alt in token.alternatives)
            and any(all(t in document.tf for t in alt) for alt in token.alternatives)
        )

    def _confident(self, hit: Hit, margin: float) -> bool:
        limits = self.thresholds
        if hit.coverage < limits.min_coverage or margin < limits.min_margin:
            return False
        return (
            hit.similarity >= limits.similarity
            or (
                hit.coverage >= limits.coverage
                and hit.similarity >= limits.similarity_with_coverage
            )
            or (hit.coverage >= limits.coverage and margin >= limits.margin)
        )


_NAME = re.compile(r"(?<=[\w,;:] )[A-ZÅÄÖ][\w-]+")
_NUMBER = re.compile(r"\b\d+\b")


def _general(word: str) -> bool:
    """An everyday word, in any of its English endings ("gives", "started", "reading")."""
    return word in GENERAL_WORDS or any(
        word.endswith(ending) and word[: -len(ending)] in GENERAL_WORDS
        for ending in ("s", "es", "ed", "d", "ing")
    )


def _incidental(question: str) -> frozenset[str]:
    """Folded numbers ("2019") and names written with a capital inside a sentence ("i Lund"):
    details of a question, not its topic. Acronyms in capitals ("BT", "IUP") are not names."""
    names = [word for word in _NAME.findall(question) if not word.isupper()]
    return frozenset(fold(word) for word in [*names, *_NUMBER.findall(question)])


_ASKING: Mapping[str, str] = {
    **dict.fromkeys(("vad", "vilken", "vilket", "vilka", "what", "which"), "what"),
    **dict.fromkeys(("vem", "vems", "who", "whom", "whose"), "who"),
    **dict.fromkeys(("nar", "when"), "when"),
    **dict.fromkeys(("var", "vart", "where"), "where"),
    **dict.fromkeys(("varfor", "why"), "why"),
}
"""Question words by what they ask for: a person, a time, a place, a thing."""


def _asks_otherwise(question: str, entry: Entry) -> bool:
    """Whether the question asks for a person, time or place (or a thing) that none of the
    entry's own questions asks for: then it may be another question about the same words."""
    asked = {_ASKING[word] for word in words(question) if word in _ASKING}
    if len(asked) != 1:
        return False
    answered = {
        _ASKING[word]
        for variant in (*entry.questions.sv, *entry.questions.en)
        for word in words(variant)
        if word in _ASKING
    }
    return bool(answered) and not asked & answered


_AS_ROLE = re.compile(
    r"\bsom (?:bt )?(?:huvud|klinik)?handledare\b|\bsom (?:bt )?(?:studierektor|koordinator|"
    r"samordnare)\b|\bas (?:a |the |an )?(?:bt )?(?:main |clinical )?(?:supervisor|director of "
    r"studies|coordinator)\b"
)


def _speaks_as_another(question: str, entry: Entry) -> bool:
    """Whether the asker says which role they ask as ("jag som handledare") and none of the
    entry's questions is asked from that role: it answers a BT doctor's question instead."""
    if not _AS_ROLE.search(plain_words(question)):
        return False
    return not any(
        _AS_ROLE.search(plain_words(variant))
        for variant in (*entry.questions.sv, *entry.questions.en)
    )


def _defining_concepts(variants: Sequence[_Variant], bt_terms: frozenset[str]) -> frozenset[str]:
    """The BT concepts every question variant of an entry names (keywords aside): what the
    entry is about, whichever way it is asked."""
    questions = [v.terms for v in variants if v.factor == 1.0]
    if not questions:
        return frozenset()
    shared = frozenset.intersection(*questions)
    return frozenset(t for t in shared if t.startswith(CONCEPT_PREFIX) and t not in bt_terms)


def _same_topic(one: Entry, other: Entry) -> bool:
    """An entry and the national entries it refines (or that refine the same one) are one
    topic: a close score between them is no coin toss."""
    return (
        one.id == other.id
        or one.id in other.refines
        or other.id in one.refines
        or not set(one.refines).isdisjoint(other.refines)
    )


def _is_concept(token: Token) -> bool:
    """A word the synonym list knows as a BT concept ("legitimation", "Ukraina", "psyk"), or a
    compound of such concepts ("primärvårdsplaceringen")."""
    return any(all(term.startswith(CONCEPT_PREFIX) for term in alt) for alt in token.alternatives)


def _named_region_rival(
    best: Hit, hits: Sequence[Hit], named: frozenset[str], margin: float
) -> Hit | None:
    """An entry of the region the question names, close behind a top entry of another scope."""
    if not named or best.entry.scope in named:
        return None
    return next(
        (hit for hit in hits if hit.entry.scope in named and best.score - hit.score < margin),
        None,
    )


def _runner_up(best: Hit, hits: Sequence[Hit]) -> float:
    """The score of the best hit on another topic."""
    return next((hit.score for hit in hits if not _same_topic(hit.entry, best.entry)), 0.0)


def _normalised(text: str) -> str:
    """Folded words without punctuation and stop words, to compare a question with a variant."""
    found = plain_words(text).split()
    return " ".join(word for word in found if word not in STOPWORDS)


def _term_pattern(term: str) -> str:
    """A declined term as a regex on folded text: whole words; a trailing * allows any ending."""
    prefix = term.endswith("*")
    folded = fold(term.rstrip("*"))
    body = re.escape(folded).replace(r"\ ", r"\s+")
    return rf"(?<![a-z0-9]){body}" + ("" if prefix else r"(?![a-z0-9])")
