"""Running Microsoft's own Teams tooling (tools/teamscheck, Node) over cards and manifests.

One Node process per call: callers batch everything they have into one request.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

TOOL_DIR = Path(__file__).resolve().parents[2] / "tools" / "teamscheck"
INSTALL_HINT = "run `npm ci --prefix tools/teamscheck` (as .ci/run does)"


class TeamsCheckUnavailable(RuntimeError):
    """Node or the pinned npm packages are missing, so nothing can be checked."""


def run_tool(script: str, request: Mapping[str, Any]) -> dict[str, Any]:
    """Run `tools/teamscheck/<script>` with `request` as JSON on stdin; its JSON answer."""
    node = shutil.which("node")
    if node is None:
        raise TeamsCheckUnavailable(f"Node.js is not on PATH; install it, then {INSTALL_HINT}")
    if not (TOOL_DIR / "node_modules").is_dir():
        raise TeamsCheckUnavailable(f"tools/teamscheck has no node_modules: {INSTALL_HINT}")
    done = subprocess.run(
        [node, str(TOOL_DIR / script)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise TeamsCheckUnavailable(f"{script} failed ({done.returncode}):\n{done.stderr}")
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def card_problems(cards: Mapping[str, Any]) -> dict[str, list[str]]:
    """What Teams would not render as sent, by card label; labels without problems are left out."""
    answer = run_tool("cards.js", {"cards": [{"id": k, "card": v} for k, v in cards.items()]})
    problems: dict[str, list[str]] = {}
    for found in answer["problems"]:
        problems.setdefault(found["id"], []).append(found["problem"])
    return problems


def manifest_problems(manifest: Mapping[str, Any], localizations: Mapping[str, Any]) -> list[str]:
    """Where `manifest` and its localization files break Microsoft's schema for their version."""
    answer = run_tool("manifest.js", {"manifest": manifest, "localizations": localizations})
    return list(answer["problems"])
