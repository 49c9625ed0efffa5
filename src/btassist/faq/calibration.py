"""A fitted second look at questions the rules leave unsure: is the top entry likely right?

The hand rules in `index` keep wrong answers away, and on questions worded as nobody wrote them
before they abstain from many whose top entry is right. A logistic model over the same evidence
(fitted by `scripts/fit_faq_calibration.py` on the development sets that were held out until
their first runs) turns the likely ones into probable answers — which name the question they
answer and offer "Not what I asked" — and leaves confident answers to the rules alone.
"""

from __future__ import annotations

import json
import math
from dataclasses import astuple, dataclass, fields
from functools import lru_cache
from pathlib import Path

PACKAGED_CALIBRATION = Path(__file__).with_name("calibration.json")


@dataclass(frozen=True)
class Evidence:
    """What the search knows about its best entry for one question (all numbers)."""

    score: float
    coverage: float
    similarity: float
    margin: float
    """Score ahead of the best entry on another topic."""
    matched_words: float
    """Informative words of the question the entry has (at most 4 count)."""
    unknown_word: float
    """1 when a topic-like word of the question is unknown to the knowledge base."""
    concept: float
    """1 when the entry holds a BT concept the question names."""
    shared_topic: float
    """1 when the entry holds two informative words or the question is nearly one of its own."""
    informative_words: float
    """Words of the question that say what it is about (at most 8 count)."""

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(field.name for field in fields(cls))

    def values(self) -> tuple[float, ...]:
        return tuple(float(value) for value in astuple(self))


@dataclass(frozen=True)
class Calibration:
    """Weights of the logistic model and the probability from which it answers."""

    weights: tuple[float, ...]
    bias: float
    threshold: float
    fitted_on: tuple[str, ...] = ()

    @classmethod
    def never(cls) -> Calibration:
        """The rules alone: no unsure question is ever answered."""
        return cls(tuple(0.0 for _ in Evidence.names()), -math.inf, 1.0)

    def probability(self, evidence: Evidence) -> float:
        """How likely the best entry is the right one."""
        z = self.bias + sum(w * x for w, x in zip(self.weights, evidence.values(), strict=True))
        if z == -math.inf:
            return 0.0
        return 1.0 / (1.0 + math.exp(-z))

    def likely(self, evidence: Evidence) -> bool:
        """Whether to answer (as probable) a question the rules left unsure."""
        return self.probability(evidence) >= self.threshold

    def to_json(self) -> str:
        return json.dumps(
            {
                "features": list(Evidence.names()),
                "weights": [round(w, 6) for w in self.weights],
                "bias": round(self.bias, 6),
                "threshold": round(self.threshold, 6),
                "fitted_on": list(self.fitted_on),
            },
            indent=2,
            ensure_ascii=False,
        )


class CalibrationError(ValueError):
    """The calibration file does not fit the evidence the search computes."""


def read_calibration(path: Path) -> Calibration:
    """Read a fitted calibration; its features must be the evidence's, in order."""
    raw = json.loads(path.read_text("utf-8"))
    if tuple(raw.get("features", ())) != Evidence.names():
        raise CalibrationError(f"{path}: features {raw.get('features')} are not {Evidence.names()}")
    threshold = float(raw["threshold"])
    if not 0.0 < threshold <= 1.0:
        raise CalibrationError(f"{path}: threshold {threshold} is not a probability")
    return Calibration(
        tuple(float(w) for w in raw["weights"]),
        float(raw["bias"]),
        threshold,
        tuple(raw.get("fitted_on", ())),
    )


@lru_cache(maxsize=1)
def packaged_calibration() -> Calibration:
    """The calibration shipped with the package (read once per process)."""
    return read_calibration(PACKAGED_CALIBRATION)
