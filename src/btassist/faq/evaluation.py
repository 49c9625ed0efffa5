"""Scoring the FAQ against a set of questions with known right answers (or none)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from btassist.faq.index import FaqIndex


@dataclass(frozen=True)
class EvalQuestion:
    """A question, the asker's region, and the entries that answer it (empty: must abstain)."""

    text: str
    region: str | None
    expected: frozenset[str]

    @property
    def in_scope(self) -> bool:
        """Whether some entry answers it."""
        return bool(self.expected)


@dataclass
class EvalReport:
    """How the FAQ did on a set of questions."""

    in_scope: int = 0
    answered_right: int = 0
    ranked_right: int = 0
    out_of_scope: int = 0
    abstained: int = 0
    confident_wrong: list[tuple[EvalQuestion, str]] = field(default_factory=list)
    missed: list[tuple[EvalQuestion, str | None]] = field(default_factory=list)
    """In-scope questions not answered confidently with a right entry (and the top entry)."""

    @property
    def accuracy(self) -> float:
        """In-scope questions answered confidently with a right entry."""
        return self.answered_right / self.in_scope if self.in_scope else 1.0

    @property
    def ranking_accuracy(self) -> float:
        """In-scope questions whose top-ranked entry is right, confident or not."""
        return self.ranked_right / self.in_scope if self.in_scope else 1.0

    @property
    def abstention(self) -> float:
        """Out-of-scope questions the FAQ declined to answer."""
        return self.abstained / self.out_of_scope if self.out_of_scope else 1.0


def load_questions(path: Path, section: str) -> list[EvalQuestion]:
    """The questions of one section (`dev`, `holdout`) of an evaluation file."""
    raw: dict[str, list[dict[str, Any]]] = yaml.safe_load(path.read_text("utf-8"))
    questions = []
    for item in raw[section]:
        expect = item.get("expect")
        expected = [expect] if isinstance(expect, str) else list(expect or [])
        questions.append(EvalQuestion(str(item["q"]), item.get("region"), frozenset(expected)))
    return questions


def evaluate(index: FaqIndex, questions: Iterable[EvalQuestion]) -> EvalReport:
    """Ask every question and count right answers, abstentions and confident mistakes."""
    report = EvalReport()
    for question in questions:
        result = index.search(question.text, region=question.region)
        top = result.best.entry.id if result.best else None
        if question.in_scope:
            report.in_scope += 1
            report.ranked_right += top in question.expected
            if result.confident and top in question.expected:
                report.answered_right += 1
            else:
                report.missed.append((question, top))
                if result.confident and top is not None:
                    report.confident_wrong.append((question, top))
        else:
            report.out_of_scope += 1
            if result.confident and top is not None:
                report.confident_wrong.append((question, top))
            else:
                report.abstained += 1
    return report


def unknown_entries(index: FaqIndex, questions: Sequence[EvalQuestion]) -> set[str]:
    """Expected entry ids that the knowledge base does not have (a stale evaluation file)."""
    return {entry for q in questions for entry in q.expected if entry not in index.by_id}
