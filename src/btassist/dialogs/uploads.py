"""A coordinator sends an Excel, CSV or YAML file: a preview first, "Importera" stores it all.

Only koordinatorer and studierektorer may send files, and only for their own region; others are
told so before anything is downloaded. The preview lists what would be created, changed and
left alone, and every problem by row ("rad 7: …"); nothing is stored until "Importera", which
the conversation state and the kept upload let any server process take.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from btassist.common.language import Language
from btassist.common.regions import region_name
from btassist.common.tabular import FileFormat, Sheet
from btassist.desk.links import download_url, offer_download
from btassist.desk.uploads import (
    MAX_UPLOAD_BYTES,
    OutOfRegion,
    Unreadable,
    UploadKind,
    UploadOutcome,
    UploadUnreadable,
    import_upload,
    keep_upload,
    preview_upload,
)
from btassist.dialogs import actions as a
from btassist.dialogs.cards import Element, bullet_list, card, heading, open_url, paragraph
from btassist.dialogs.confirm import ask_to_confirm
from btassist.dialogs.turn import FlowContext, Reply
from btassist.i18n.catalogue import t
from btassist.roster.identity import Actor

MAX_PROBLEMS_SHOWN = 30  # more go into a file: a card stays well under Teams' 40 KB
MAX_NAMES_SHOWN = 8


class FileTooLarge(Exception):
    """The file is larger than the bot takes."""


class FileUnavailable(Exception):
    """The file could not be fetched (link expired, timeout, refused address)."""


class SentFile(Protocol):
    """A file someone attached to a message; the transport fetches it when asked."""

    @property
    def name(self) -> str:
        """The file's name as the sender's computer had it."""
        ...

    async def read(self, *, max_bytes: int) -> bytes:
        """The file's bytes; raises `FileTooLarge` beyond `max_bytes`, else `FileUnavailable`."""
        ...


def regions_of(actor: Actor) -> tuple[str, ...]:
    """The regions a koordinator or studierektor acts for: the region the roster gives them."""
    return (actor.region,)


async def file_sent(ctx: FlowContext, actor: Actor, files: Sequence[SentFile]) -> list[Reply]:
    """The preview of a sent file, with "Importera" when there is something to import."""
    lang = actor.language
    if not actor.coordinates:
        return [Reply(text=t("upload.refused", lang))]
    file = files[0]
    replies = [Reply(text=t("upload.one_at_a_time", lang, name=file.name))] if files[1:] else []
    try:
        data = await file.read(max_bytes=MAX_UPLOAD_BYTES)
        outcome = await preview_upload(
            ctx.database,
            data=data,
            name=file.name,
            regions=regions_of(actor),
            zone=ctx.zone,
            now=ctx.now(),
        )
    except FileTooLarge:
        return [*replies, Reply(text=_too_large(file.name, lang))]
    except FileUnavailable:
        return [*replies, Reply(text=t("upload.unavailable", lang, name=file.name))]
    except UploadUnreadable as unreadable:
        return [*replies, Reply(text=_unreadable(file.name, unreadable, lang))]
    if not outcome.ok:
        return [*replies, await _problems(ctx, actor, outcome)]
    if not outcome.changes:
        text = t("upload.nothing_to_do", lang, name=file.name, unchanged=outcome.unchanged)
        return [*replies, Reply(text=text)]
    upload_id = await keep_upload(
        ctx.database, person_id=actor.person_id, name=file.name, data=data, now=ctx.now()
    )
    body = [
        heading(t("upload.preview_title", lang, file=_file_label(outcome, lang))),
        paragraph(t(f"upload.kind.{outcome.kind}", lang), subtle=True),
        *_counts(outcome, lang),
        paragraph(t("upload.nothing_stored_yet", lang)),
    ]
    action = a.ImportUpload(upload_id=upload_id)
    question = await ask_to_confirm(ctx, actor, action, body=body, yes=t("upload.import", lang))
    return [*replies, question]


async def import_file(ctx: FlowContext, actor: Actor, action: a.ImportUpload) -> list[Reply]:
    """ "Importera": store the kept file all at once, then say what changed."""
    lang = actor.language
    if not action.confirmed:  # only the confirmation runs an import
        return [Reply(text=t("upload.gone", lang))]
    outcome = await import_upload(
        ctx.database,
        person_id=actor.person_id,
        upload_id=action.upload_id,
        regions=regions_of(actor),
        zone=ctx.zone,
        now=ctx.now(),
    )
    if outcome is None:
        return [Reply(text=t("upload.gone", lang), replace=True)]
    if not outcome.stored:  # the database changed since the preview
        return [replace(await _problems(ctx, actor, outcome), replace=True)]
    body = [
        heading(t("upload.imported_title", lang, file=_file_label(outcome, lang))),
        *_counts(outcome, lang),
    ]
    if outcome.doctors_told:
        body.append(paragraph(t("upload.doctors_told", lang, count=outcome.doctors_told)))
    if outcome.plans is not None and outcome.plans.changed:
        plans = outcome.plans
        body.append(
            paragraph(
                t(
                    "upload.plans_changed",
                    lang,
                    created=plans.created,
                    moved=plans.moved,
                    cancelled=plans.cancelled,
                )
            )
        )
    if outcome.warnings:
        body += [
            paragraph(t("upload.warnings", lang, count=len(outcome.warnings))),
            bullet_list(
                f"{w.doctor_email}: {w.message}" for w in outcome.warnings[:MAX_PROBLEMS_SHOWN]
            ),
        ]
        if len(outcome.warnings) > MAX_PROBLEMS_SHOWN:
            more = len(outcome.warnings) - MAX_PROBLEMS_SHOWN
            body.append(paragraph(t("upload.more", lang, count=more), subtle=True))
    return [Reply(card=card(body), replace=True)]


def _file_label(outcome: UploadOutcome, lang: Language) -> str:
    source = outcome.source
    if source.sheet is None:
        return source.name
    return t("upload.file_sheet", lang, file=source.name, sheet=source.sheet)


def _counts(outcome: UploadOutcome, lang: Language) -> list[Element]:
    """How many are created, changed (cancelled) and unchanged, with the first few named."""
    facts = [
        (t("upload.created", lang), len(outcome.created)),
        (t("upload.updated", lang), len(outcome.updated)),
    ]
    if outcome.kind is UploadKind.sessions:
        facts.append((t("upload.cancelled", lang), len(outcome.cancelled)))
    facts.append((t("upload.unchanged", lang), outcome.unchanged))
    elements: list[Element] = [
        {
            "type": "FactSet",
            "facts": [{"title": title, "value": str(count)} for title, count in facts],
        }
    ]
    for key, names in (
        ("upload.created", outcome.created),
        ("upload.updated", outcome.updated),
        ("upload.cancelled", outcome.cancelled),
    ):
        if names:
            shown = names[:MAX_NAMES_SHOWN]
            lines = [*shown]
            if len(names) > len(shown):
                lines.append(t("upload.more", lang, count=len(names) - len(shown)))
            elements += [paragraph(f"**{t(key, lang)}**"), bullet_list(lines)]
    return elements


def problem_lines(outcome: UploadOutcome, lang: Language) -> list[tuple[int, str]]:
    """Every problem of the file as (row, text), in row order; the rows are the file's own."""
    lines = [(p.line, p.message) for p in outcome.problems]
    lines += [(o.line, _outside(o, outcome.kind, lang)) for o in outcome.outside]
    return sorted(lines)


def _outside(problem: OutOfRegion, kind: UploadKind, lang: Language) -> str:
    region = region_name(problem.region, lang)
    if problem.subject == problem.region:
        return t("upload.outside_named", lang, region=region)
    key = "upload.outside_course" if kind is UploadKind.catalogue else "upload.outside_owned"
    return t(key, lang, subject=problem.subject, region=region)


async def _problems(ctx: FlowContext, actor: Actor, outcome: UploadOutcome) -> Reply:
    """Every problem by row (the first ones on the card, all of them in a file beyond that);
    nothing was stored."""
    lang = actor.language
    lines = problem_lines(outcome, lang)
    row = "upload.row" if outcome.kind is not UploadKind.catalogue else "upload.line"
    body = [
        heading(t("upload.problems_title", lang, file=_file_label(outcome, lang))),
        paragraph(t("upload.problems", lang, count=len(lines))),
        bullet_list(
            f"{t(row, lang, row=line)}: {message}" for line, message in lines[:MAX_PROBLEMS_SHOWN]
        ),
    ]
    buttons = []
    if len(lines) > MAX_PROBLEMS_SHOWN:
        body.append(
            paragraph(t("upload.more", lang, count=len(lines) - MAX_PROBLEMS_SHOWN), subtle=True)
        )
        sheet = Sheet(name="Problems", header=("row", "problem"), rows=lines)
        exported = sheet.as_file(FileFormat.xlsx, stem=f"problems-{outcome.kind}")
        token = await offer_download(
            ctx.database, person_id=actor.person_id, file=exported, now=ctx.now()
        )
        url = download_url(ctx.public_url, token)
        buttons.append(open_url(t("upload.all_problems", lang), url))
    body.append(paragraph(t("upload.fix_and_send_again", lang)))
    return Reply(card=card(body, buttons))


def _too_large(name: str, lang: Language) -> str:
    return t("upload.too_large", lang, name=name, limit=MAX_UPLOAD_BYTES // (1024 * 1024))


def _unreadable(name: str, unreadable: UploadUnreadable, lang: Language) -> str:
    if unreadable.reason is Unreadable.too_large:
        return _too_large(name, lang)
    text = t(f"upload.unreadable.{unreadable.reason}", lang, name=name)
    if unreadable.detail and unreadable.reason in (Unreadable.broken, Unreadable.unknown_header):
        text += "\n\n" + t("upload.unreadable_detail", lang, detail=unreadable.detail)
    return text
