"""Region policies as sourced data: the shipped files, problems by file and line, hot reload."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from btassist.assessments.models import ItemKind
from btassist.assessments.policy import (
    Attendee,
    PolicyError,
    load_policies,
    packaged_policies,
)
from btassist.assessments.store import PolicyStore
from btassist.cli import app
from btassist.common.language import Language
from btassist.common.regions import REGION_CODES
from btassist.common.watch import FileWatcher, Watched
from btassist.roster.models import PlacementKind


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    """An editable copy of the shipped policies."""
    target = tmp_path / "policies"
    target.mkdir()
    for entry in packaged_policies().iterdir():
        if entry.name.endswith(".yaml"):
            (target / entry.name).write_bytes(entry.read_bytes())
    return target


def test_every_region_has_a_policy_and_every_rule_says_where_it_comes_from() -> None:
    policies = load_policies()
    assert set(policies.by_region) == set(REGION_CODES)
    for policy in policies.by_region.values():
        rules = [
            policy.assessments,
            policy.placement_assessment,
            policy.end_of_placement_meeting,
            policy.kollegium,
            policy.teaching,
            policy.iup,
            policy.supervision_contract,
            policy.final_assessment,
            policy.placements,
        ]
        for rule in rules:
            assert rule.source or rule.default, (policy.region, rule)


def test_the_regions_differ_as_their_sources_say() -> None:
    policies = load_policies()
    gavleborg, jonkoping = policies["gavleborg"], policies["jonkoping"]
    kronoberg, halland, vgr = policies["kronoberg"], policies["halland"], policies["vgr"]
    assert gavleborg.assessments.every_months == 1
    assert gavleborg.placement_assessment.held
    assert (gavleborg.placements.first, gavleborg.placements.last) == (
        PlacementKind.primarvard,
        PlacementKind.primarvard,
    )
    assert (jonkoping.assessments.count, jonkoping.assessments.per_months) == (2, 3)
    assert kronoberg.teaching.weekly_hours == 4
    assert kronoberg.kollegium.at_fraction == (0.5,)
    assert kronoberg.assessments.caution  # "flera" is not a number
    assert Attendee.doctor not in kronoberg.attendees(ItemKind.kollegium)
    assert halland.supervision_contract.required
    assert halland.assessments.instruments == ("Mini-CEX", "DOPS", "CBD")
    assert set(halland.attendees(ItemKind.end_meeting)) == {
        Attendee.doctor,
        Attendee.handledare,
        Attendee.huvudhandledare,
        Attendee.studierektor,
    }
    assert halland.name(ItemKind.end_meeting, Language.sv) == "Överrapporteringsmöte"
    assert vgr.kollegium.at_months == (3, 9)
    assert not any(
        p.supervision_contract.required for r, p in policies.by_region.items() if r != "halland"
    )


def _problems(directory: Path) -> list[str]:
    with pytest.raises(PolicyError) as raised:
        load_policies(directory)
    return [str(problem) for problem in raised.value.problems]


def test_problems_are_listed_by_file_and_line(policy_dir: Path) -> None:
    halland = policy_dir / "halland.yaml"
    text = halland.read_text("utf-8")
    text = text.replace("  count: 2\n  per_months: 3\n", "  count: 2\n  every_months: 1\n", 1)
    text = text.replace("  weekly_hours: null\n", "  weekly_hours: null\n  weekly_minutes: 5\n")
    text = text.replace(
        "  required: true\n  name: {sv: Handledningskontrakt, en: Supervision contract}\n",
        "  required: true\n",
    )
    halland.write_text(text, "utf-8")
    (policy_dir / "orebro.yaml").write_text(
        (policy_dir / "orebro.yaml").read_text("utf-8").replace("region: orebro", "region: vgr"),
        "utf-8",
    )
    lines = {n: line for n, line in enumerate(text.splitlines(), start=1)}
    problems = _problems(policy_dir)
    assert any(
        p.startswith("halland.yaml:") and "either `every_months` or `count`" in p for p in problems
    )
    minutes = next(n for n, line in lines.items() if "weekly_minutes" in line)
    assert f"halland.yaml:{minutes}: teaching.weekly_minutes: is not a known field" in problems
    assert any("supervision_contract: a required start task needs a `name`" in p for p in problems)
    assert "orebro.yaml:1: the file for vgr must be named vgr.yaml" in problems


def test_broken_yaml_and_a_missing_source_are_reported(policy_dir: Path) -> None:
    (policy_dir / "kronoberg.yaml").write_text("region: kronoberg\nassessments: [\n", "utf-8")
    text = (policy_dir / "jonkoping.yaml").read_text("utf-8")
    lines = text.splitlines(keepends=True)
    first_rule = next(n for n, line in enumerate(lines) if line.startswith("assessments:"))
    rule_end = next(n for n in range(first_rule + 1, len(lines)) if not lines[n].startswith(" "))
    text = "".join(
        line
        for n, line in enumerate(lines)
        if not (first_rule < n < rule_end and line.lstrip().startswith(("source:", "default:")))
    )
    (policy_dir / "jonkoping.yaml").write_text(text, "utf-8")
    problems = _problems(policy_dir)
    assert any(p.startswith("kronoberg.yaml:") and "not valid YAML" in p for p in problems)
    assert any(
        p.startswith("jonkoping.yaml:") and "give a `source`, or a `default`" in p for p in problems
    )


def test_a_broken_edit_keeps_the_old_policies_and_a_fixed_one_swaps_in(policy_dir: Path) -> None:
    store = PolicyStore(policy_dir)
    assert store.reload_if_changed() is None
    kronoberg = policy_dir / "kronoberg.yaml"
    good = kronoberg.read_text("utf-8")
    kronoberg.write_text(good.replace("weekly_hours: 4", "weekly_hours: -4"), "utf-8")
    outcome = store.reload_if_changed()
    assert outcome is not None
    assert not outcome.reloaded
    assert outcome.error is not None
    assert store.current["kronoberg"].teaching.weekly_hours == 4
    assert store.reload_if_changed() is None  # the same broken files are not retried
    kronoberg.write_text(good.replace("weekly_hours: 4", "weekly_hours: 5"), "utf-8")
    outcome = store.reload_if_changed()
    assert outcome is not None
    assert outcome.reloaded
    assert store.current["kronoberg"].teaching.weekly_hours == 5


async def test_the_watcher_reloads_changed_files_and_runs_the_follow_up(policy_dir: Path) -> None:
    store = PolicyStore(policy_dir)
    followed: list[str] = []

    async def regenerate_plans() -> None:
        followed.append("sync")

    watcher = FileWatcher([Watched(store, "policies", regenerate_plans)], interval=0)
    await watcher.check()
    assert followed == []
    halland = policy_dir / "halland.yaml"
    halland.write_text(
        halland.read_text("utf-8").replace("within_days: 14", "within_days: 21", 1), "utf-8"
    )
    await watcher.check()
    assert followed == ["sync"]
    assert store.current["halland"].iup.within_days == 21


def test_assessments_check_lists_the_problems(policy_dir: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["assessments", "check", str(policy_dir)]).exit_code == 0
    shutil.copy(policy_dir / "vgr.yaml", policy_dir / "extra.yaml")
    result = runner.invoke(app, ["assessments", "check", str(policy_dir)])
    assert result.exit_code == 1
    assert "extra.yaml:1: the file for vgr must be named vgr.yaml" in result.output
