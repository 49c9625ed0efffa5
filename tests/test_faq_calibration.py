"""The fitted calibration: a second look at what the rules leave unsure, never at the rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from btassist.faq.calibration import (
    PACKAGED_CALIBRATION,
    Calibration,
    CalibrationError,
    Evidence,
    packaged_calibration,
    read_calibration,
)
from btassist.faq.evaluation import load_questions
from btassist.faq.index import FaqIndex, Level
from btassist.faq.kb import PACKAGED_KB, read_directory


@pytest.fixture(scope="module")
def indexes() -> tuple[FaqIndex, FaqIndex]:
    """The rules alone, and the rules with the packaged calibration."""
    files = read_directory(PACKAGED_KB)

    def index(calibration: Calibration | None) -> FaqIndex:
        return FaqIndex(
            files.entries, declined=files.declined, synonyms=files.synonyms, calibration=calibration
        )

    return index(Calibration.never()), index(None)


def test_the_packaged_calibration_weighs_the_evidence_the_search_computes() -> None:
    calibration = packaged_calibration()
    assert len(calibration.weights) == len(Evidence.names())
    assert 0.6 <= calibration.threshold < 1.0
    assert "wave6" in calibration.fitted_on
    assert not any(name.startswith("faq_heldout") for name in calibration.fitted_on)


def test_a_calibration_for_other_evidence_is_refused(tmp_path: Path) -> None:
    raw = json.loads(PACKAGED_CALIBRATION.read_text("utf-8"))
    raw["features"] = raw["features"][:-1]
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps(raw), "utf-8")
    with pytest.raises(CalibrationError, match="features"):
        read_calibration(path)


def test_stronger_evidence_is_more_likely_right() -> None:
    calibration = packaged_calibration()
    weak = Evidence(0.4, 0.3, 0.3, 0.05, 1, 1, 0, 0, 5)
    strong = Evidence(0.8, 0.7, 0.6, 0.3, 3, 0, 1, 1, 4)
    assert calibration.probability(weak) < calibration.threshold <= calibration.probability(strong)
    assert not Calibration.never().likely(strong)


def test_what_it_answers_of_the_development_sets_is_answered_right(
    indexes: tuple[FaqIndex, FaqIndex],
) -> None:
    """The fit's promise, checked against the shipped knowledge base: every development question
    the rules leave unsure and the calibration answers has its right entry first. A change to
    the knowledge base or the development sets that breaks it needs a refit
    (`python scripts/fit_faq_calibration.py`)."""
    rules, calibrated = indexes
    development = Path(__file__).parent / "data" / "faq_eval.yaml"
    sections = yaml.safe_load(development.read_text("utf-8"))
    answered = []
    for section in sections:
        for question in load_questions(development, section):
            before = rules.search(question.text, region=question.region)
            after = calibrated.search(question.text, region=question.region)
            if before.level is Level.unsure and after.level is Level.probable:
                assert after.best is not None
                answered.append((question.text, after.best.entry.id in question.expected))
    assert len(answered) >= 10
    assert [text for text, right in answered if not right] == []


@pytest.mark.parametrize(
    ("question", "region"),
    [
        ("hur gick det för hv71 igår", "jonkoping"),
        ("vad kostar intyget från Socialstyrelsen", "orebro"),
        ("finns det personalbostäder i växjö för nya bt-läkare", "kronoberg"),
        ("ST in radiology, which courses do I need?", "halland"),
    ],
)
def test_out_of_scope_questions_stay_unanswered(
    indexes: tuple[FaqIndex, FaqIndex], question: str, region: str
) -> None:
    _, calibrated = indexes
    assert calibrated.search(question, region=region).level is Level.unsure


def test_confident_and_probable_answers_are_the_rules_alone(
    indexes: tuple[FaqIndex, FaqIndex],
) -> None:
    rules, calibrated = indexes
    for question in ("Vad är BT?", "hur ofta görs bedömningar", "Vad är DOPS?"):
        before = rules.search(question, region="halland")
        after = calibrated.search(question, region="halland")
        assert before.level is not Level.unsure
        assert (after.level, after.hits) == (before.level, before.hits)
        assert after.evidence is None
