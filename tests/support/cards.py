"""Every Adaptive Card the bot sends during the test session, for one check at the end.

Cards are collected where they leave the bot: activities the fake Bot Connector received (sent,
replied, created conversations and updates, through `CardRecordingConnector`) and cards returned
in invoke responses (through `record_invoke_cards`, which `running_bot` installs). The session
fixture in conftest.py checks them all in one Node run with Microsoft's Adaptive Cards library
(tests/support/teamscheck.py) and fails with each card and its problems.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from btassist.localchat.client import BotReply, cards_of
from tests.support.teamscheck import card_problems

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class KnownProblem:
    """A problem of today's cards that is waived until the card is rebuilt; remove when fixed."""

    problem: str  # how the problem starts
    verbs: frozenset[str]  # the card's buttons send one of these verbs
    why: str

    def covers(self, card: JsonDict, problem: str) -> bool:
        """Whether `problem` of `card` is this known one."""
        verbs = {(a.get("data") or {}).get("verb") for a in card.get("actions") or []}
        return problem.startswith(self.problem) and bool(verbs & self.verbs)


# Teams' host config allows 6 buttons per action set and the renderer drops the rest. The course
# list has one button per course (11 in Halland) and the menus of supervisors and coordinators
# have 7–8: dialogs/ must split them (ActionSets of at most 6, a ChoiceSet, or
# `"mode": "secondary"`), then these go.
KNOWN_PROBLEMS: tuple[KnownProblem, ...] = ()


def current_test() -> str:
    """The pytest id of the running test (what a problem report names as the card's origin)."""
    running = os.environ.get("PYTEST_CURRENT_TEST", "outside a test")
    return running.rsplit(" (", 1)[0]


@dataclass
class SentCards:
    """Distinct cards, each with the first test that sent it."""

    origins: dict[str, str] = field(default_factory=dict)  # canonical JSON → test id

    def add(self, card: JsonDict, origin: str | None = None) -> None:
        """Remember `card` (identical cards are checked once)."""
        self.origins.setdefault(_canonical(card), origin or current_test())

    def add_activity(self, activity: JsonDict, origin: str | None = None) -> None:
        """Remember the Adaptive Cards attached to an activity."""
        for card in cards_of(activity):
            self.add(card, origin)

    def __len__(self) -> int:
        return len(self.origins)

    def __contains__(self, card: object) -> bool:
        return _canonical(card) in self.origins

    def report(self) -> str:
        """Every card Teams would not render as sent, with its problems; empty when none."""
        labelled = {f"card {n}": json.loads(key) for n, key in enumerate(self.origins, 1)}
        origins = dict(zip(labelled, self.origins.values(), strict=True))
        problems = {
            label: unknown
            for label, found in card_problems(labelled).items()
            if (unknown := [p for p in found if not _known(labelled[label], p)])
        }
        return "\n\n".join(
            f"{label}, first sent by {origins[label]}:\n"
            + "".join(f"  - {problem}\n" for problem in found)
            + "  "
            + json.dumps(labelled[label], ensure_ascii=False)[:2000]
            for label, found in problems.items()
        )


def _canonical(card: object) -> str:
    return json.dumps(card, sort_keys=True, ensure_ascii=False)


def _known(card: JsonDict, problem: str) -> bool:
    return any(known.covers(card, problem) for known in KNOWN_PROBLEMS)


SENT_CARDS = SentCards()


@web.middleware
async def record_invoke_cards(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Collect the card an invoke response carries (Action.Execute answers in the response)."""
    response = await handler(request)
    if request.path == "/api/messages" and isinstance(response, web.Response):
        raw = response.body
        if isinstance(raw, bytes) and raw.startswith(b"{"):
            for card in BotReply(response.status, [], json.loads(raw)).invoke_cards:
                SENT_CARDS.add(card)
    return response
