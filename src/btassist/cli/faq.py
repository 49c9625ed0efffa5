"""`btassist faq`: ask the knowledge base, reload it, see what it could not answer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from btassist.cli.common import (
    err,
    load_settings,
    out,
    print_table,
    region_option,
    run_with_database,
)
from btassist.common.language import Language
from btassist.db.engine import Database

faq_app = typer.Typer(
    help="The FAQ knowledge base: ask it, reload it, see what it could not answer.",
    no_args_is_help=True,
)


def _faq_directory() -> Path:
    from btassist.faq.kb import PACKAGED_KB

    return load_settings().faq_dir or PACKAGED_KB


def _load_faq(directory: Path) -> Any:
    from btassist.faq.kb import KnowledgeBaseError
    from btassist.faq.store import load_knowledge_base

    try:
        return load_knowledge_base(directory)
    except KnowledgeBaseError as error:
        err.print(f"[red]{directory}: {len(error.problems)} problem(s)[/red]")
        for problem in error.problems:
            err.print(f"  {problem}", markup=False, highlight=False)
        raise typer.Exit(1) from error


@faq_app.command("ask")
def faq_ask(
    question: Annotated[str, typer.Argument(help="The question, as a doctor would type it.")],
    lang: Annotated[
        Language | None, typer.Option(help="Answer language; default: the question's.")
    ] = None,
    region: Annotated[
        str | None, region_option("The asker's region, e.g. halland (ranked first).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Ask the FAQ as a doctor would: the entry it answers with (confident, or probable with the
    question it takes it to mean), or that it is not sure."""
    import json

    from btassist.faq.index import Level

    kb = _load_faq(_faq_directory())
    result = kb.search(question, region=region)
    language = lang or (Language(result.language) if result.language else Language.sv)
    hit = result.proposed
    entry = hit.entry if hit else None
    caution = entry.caution_note(language) or bool(entry.caution) if entry else None
    payload: dict[str, Any] = {
        "answered": hit is not None,
        "level": result.level.value,
        "entry_id": entry.id if entry else None,
        "interpretation": result.interpretation(language),
        "score": round(result.best.score, 3) if result.best else 0.0,
        "answer": entry.answer[language] if entry else None,
        "source": entry.source.model_dump(exclude_none=True) if entry else None,
        "scope": entry.scope if entry else None,
        "applies": entry.applies.value if entry else None,
        "caution": caution,
        "action": entry.action.value if entry and entry.action else None,
        "declined": result.declined,
        "region": result.region,
        "closest": [h.entry.id for h in result.closest(2)] if hit is None else [],
        "alternatives": [h.entry.id for h in result.alternatives(2)] if hit else [],
    }
    if as_json:
        print(json.dumps(payload, ensure_ascii=False))
        return
    if entry is None:
        out.print("[yellow]not sure[/yellow] – the bot would offer a person to ask", end="")
        out.print(f" (declined topic: {result.declined})" if result.declined else "")
        for near in result.closest(2):
            out.print(f"  closest: {near.entry.id} – {near.entry.title(language)}", markup=False)
        return
    if result.level is Level.probable:
        out.print(f"[yellow]probably:[/yellow] {escape(entry.title(language))}")
    out.print(f"[bold]{escape(entry.title(language))}[/bold]  [dim]({entry.id})[/dim]")
    out.print(entry.answer[language], markup=False, highlight=False)
    if isinstance(caution, str):
        out.print(f"[yellow]⚠ {escape(caution)}[/yellow]")
    source = entry.source
    out.print(
        f"[dim]{entry.applies.value} ({entry.scope}) · source: {escape(source.name)}"
        f"{' ' + source.url if source.url else ''} · reviewed {entry.reviewed}[/dim]"
    )
    for other in result.alternatives(2) if result.level is Level.probable else ():
        out.print(f"  or: {other.entry.id} – {other.entry.title(language)}", markup=False)


@faq_app.command("reload")
def faq_reload(
    pid: Annotated[
        int | None, typer.Option(help="Also send SIGHUP to this running `btassist serve`.")
    ] = None,
) -> None:
    """Check the knowledge-base files (BTASSIST_FAQ_DIR) and have a running server reload them.

    A running server also reloads by itself within BTASSIST_FAQ_RELOAD_INTERVAL seconds of a
    change, and keeps serving the old knowledge base when a file is broken.
    """
    import os
    import signal

    directory = _faq_directory()
    kb = _load_faq(directory)
    regions = sorted({entry.scope for entry in kb.entries.values()})
    out.print(
        f"{directory}: {len(kb.entries)} entries ({', '.join(regions)}), "
        f"indexed in {kb.build_seconds:.2f} s"
    )
    if pid is not None:
        try:
            os.kill(pid, signal.SIGHUP)
        except (OSError, AttributeError) as error:
            err.print(f"[red]could not signal process {pid}:[/red] {error}")
            raise typer.Exit(1) from error
        out.print(f"sent SIGHUP to {pid}")


@faq_app.command("report")
def faq_report_command(
    region: Annotated[str | None, region_option("Only this region.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Rows per list.")] = 10,
) -> None:
    """Top unanswered questions, down-voted answers and questions waiting for a coordinator."""
    from btassist.faq.service import FaqReport, faq_report

    async def work(database: Database) -> FaqReport:
        async with database.session(write_lock=False) as session:
            return await faq_report(session, region=region, limit=limit)

    report = run_with_database(work)
    unanswered = Table("count", "question", title="Unanswered questions (no asker stored)")
    for counted in report.unanswered:
        unanswered.add_row(str(counted.count), escape(counted.example))
    print_table(unanswered)
    votes = Table("entry", "👎", "👍", "a question that got 👎", title="Down-voted answers")
    for counted in report.unhelpful:
        votes.add_row(
            counted.key,
            str(counted.count),
            str(report.helpful.get(counted.key, 0)),
            escape(counted.example),
        )
    print_table(votes)
    declined = Table("count", "topic", title="Declined topics")
    for counted in report.declined:
        declined.add_row(str(counted.count), counted.key)
    print_table(declined)
    waiting = Table("asked", "region", "by", "question", title="Waiting for a coordinator")
    for view in report.open_questions:
        waiting.add_row(
            view.question.created_at.date().isoformat(),
            view.question.region_code,
            escape(view.asker_name),
            escape(view.question.text),
        )
    print_table(waiting)
