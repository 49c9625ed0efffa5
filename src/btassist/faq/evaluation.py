"""Scoring the FAQ against sets of questions with known right answers (or none).

What matters is what a person gets: an answer, and whether it is the right one. So a question
counts as answered right when the FAQ answers it (confident or probable) with a right entry;
a wrong answer is confidently wrong or probably wrong (the probable card names the question it
answers, so a reader can tell); an abstention is neither. A question no entry answers must be
abstained from, naming the right people: the asker's region's (or the named region's), or the
declined topic's own referral (salary, patients).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from btassist.faq.index import FaqIndex, Level, SearchResult


@dataclass(frozen=True)
class EvalQuestion:
    """A question, the asker's region, and the entries that answer it (empty: must abstain)."""

    text: str
    region: str | None
    expected: frozenset[str]
    declined: str | None = None
    """For a question no entry answers: the declined topic it is about, if any."""
    contact: str | None = None
    """For a question no entry answers: the region whose people should be named (default: the
    asker's)."""

    @property
    def in_scope(self) -> bool:
        """Whether some entry answers it."""
        return bool(self.expected)

    @property
    def contact_region(self) -> str | None:
        """The region whose people an abstention should name."""
        return self.contact or self.region


Outcome = tuple[EvalQuestion, str | None]
"""A question and the entry the FAQ ranked first (None: nothing)."""


@dataclass
class EvalReport:
    """How the FAQ did on a set of questions."""

    in_scope: int = 0
    confident_right: int = 0
    probable_right: int = 0
    ranked_right: int = 0
    out_of_scope: int = 0
    oos_abstained: int = 0
    """Out-of-scope questions abstained from, naming the right people."""
    confident_wrong: list[Outcome] = field(default_factory=list)
    probable_wrong: list[Outcome] = field(default_factory=list)
    abstained: list[Outcome] = field(default_factory=list)
    """In-scope questions not answered (and the entry ranked first)."""
    wrong_contact: list[Outcome] = field(default_factory=list)
    """Out-of-scope questions abstained from, naming the wrong people."""

    @property
    def answered_right(self) -> int:
        """In-scope questions answered (confident or probable) with a right entry."""
        return self.confident_right + self.probable_right

    @property
    def answered_right_share(self) -> float:
        """Share of in-scope questions answered right."""
        return self.answered_right / self.in_scope if self.in_scope else 1.0

    @property
    def ranking_accuracy(self) -> float:
        """In-scope questions whose top-ranked entry is right, answered or not."""
        return self.ranked_right / self.in_scope if self.in_scope else 1.0

    @property
    def oos_abstention(self) -> float:
        """Out-of-scope questions abstained from with the right people named."""
        return self.oos_abstained / self.out_of_scope if self.out_of_scope else 1.0

    def add(self, question: EvalQuestion, result: SearchResult) -> None:
        """Count one question's outcome."""
        top = result.best.entry.id if result.best else None
        outcome = (question, top)
        answered = result.level is not Level.unsure and top is not None
        if question.in_scope:
            self.in_scope += 1
            self.ranked_right += top in question.expected
            if not answered:
                self.abstained.append(outcome)
            elif top in question.expected:
                if result.level is Level.confident:
                    self.confident_right += 1
                else:
                    self.probable_right += 1
            else:
                self._wrong(result, outcome)
            return
        self.out_of_scope += 1
        if answered:
            self._wrong(result, outcome)
        elif _right_people(question, result):
            self.oos_abstained += 1
        else:
            self.wrong_contact.append(outcome)

    def _wrong(self, result: SearchResult, outcome: Outcome) -> None:
        if result.level is Level.confident:
            self.confident_wrong.append(outcome)
        else:
            self.probable_wrong.append(outcome)


def _right_people(question: EvalQuestion, result: SearchResult) -> bool:
    """A declined topic names its own people; otherwise the region's people are named."""
    if question.declined is not None or result.declined is not None:
        return result.declined == question.declined
    return result.region == question.contact_region


def load_questions(path: Path, section: str = "questions") -> list[EvalQuestion]:
    """The questions of one section (`dev`, `holdout` …, or `questions`) of an evaluation file."""
    raw: dict[str, list[dict[str, Any]]] = yaml.safe_load(path.read_text("utf-8"))
    questions = []
    for item in raw[section]:
        expect = item.get("expect")
        expected = [expect] if isinstance(expect, str) else list(expect or [])
        questions.append(
            EvalQuestion(
                str(item["q"]),
                item.get("region"),
                frozenset(expected),
                declined=item.get("declined"),
                contact=item.get("contact"),
            )
        )
    return questions


def evaluate(index: FaqIndex, questions: Iterable[EvalQuestion]) -> EvalReport:
    """Ask every question and count right and wrong answers and abstentions."""
    report = EvalReport()
    for question in questions:
        report.add(question, index.search(question.text, region=question.region))
    return report


def unknown_entries(index: FaqIndex, questions: Sequence[EvalQuestion]) -> set[str]:
    """Expected entry ids that the knowledge base does not have (a stale evaluation file)."""
    return {entry for q in questions for entry in q.expected if entry not in index.by_id}
