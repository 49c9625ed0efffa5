"""The cohort overview ("översikt") for koordinatorer and studierektorer: one card per region.

Each card lists the region's BT doctors, the most urgent first (overdue items, then items due
soon), a page at a time so a large cohort stays within what Teams renders; the filters (cohort,
current placement) and the pages answer in place (Action.Execute), and the whole filtered list
can be taken as a workbook.
"""

from __future__ import annotations

from btassist.common.language import Language
from btassist.common.regions import region_name
from btassist.desk.overview import DUE_SOON_DAYS, CohortFilter, CohortOverview, DoctorLine
from btassist.desk.overview import cohort_overview as overview_of
from btassist.dialogs import actions as a
from btassist.dialogs.cards import Card, Element, card, execute, heading, paragraph, submit
from btassist.dialogs.turn import FlowContext, Reply
from btassist.dialogs.uploads import regions_of
from btassist.i18n.catalogue import t
from btassist.roster.identity import Actor
from btassist.roster.models import PlacementKind

PAGE_SIZE = 20  # doctors per card: about 5 KB, far from Teams' 40 KB


async def cohort_overview(ctx: FlowContext, actor: Actor, action: a.Overview) -> list[Reply]:
    """ "översikt": one card per region the person coordinates."""
    only = CohortFilter(action.cohort, action.placement)
    replies = []
    for region in regions_of(actor):
        overview = await overview_of(ctx.database, region=region, today=ctx.today(), only=only)
        card_ = overview_card(overview, only=only, page=action.page, lang=actor.language)
        replies.append(Reply(card=card_))
    return replies


def overview_card(
    overview: CohortOverview, *, only: CohortFilter, page: int, lang: Language
) -> Card:
    """A region's card: summary, filters, one page of doctors, paging and export buttons."""
    doctors = overview.doctors
    pages = max(1, -(-len(doctors) // PAGE_SIZE))
    page = min(page, pages - 1)
    first = page * PAGE_SIZE
    shown = doctors[first : first + PAGE_SIZE]
    body: list[Element] = [
        heading(t("overview.title", lang, region=region_name(overview.region, lang))),
        paragraph(
            t(
                "overview.summary",
                lang,
                shown=len(doctors),
                total=overview.total,
                overdue=overview.overdue,
                nudged=overview.nudged,
                mandatory=overview.mandatory_total,
            )
        ),
        {
            "type": "ColumnSet",
            "columns": [
                {
                    "type": "Column",
                    "width": "stretch",
                    "items": [
                        _choices(
                            "cohort",
                            t("overview.cohort", lang),
                            only.cohort,
                            [(a.ALL, t("overview.all_cohorts", lang))]
                            + [(cohort, cohort) for cohort in overview.cohorts],
                        )
                    ],
                },
                {
                    "type": "Column",
                    "width": "stretch",
                    "items": [
                        _choices(
                            "placement",
                            t("overview.placement", lang),
                            only.placement.value if only.placement else None,
                            _placements(lang),
                        )
                    ],
                },
            ],
        },
    ]
    if not shown:
        body.append(paragraph(t("overview.nobody", lang)))
    for number, line in enumerate(shown):
        block = paragraph(_line(line, overview.mandatory_total, lang))
        if number:
            block["separator"] = True
        body.append(block)
    if len(doctors) > PAGE_SIZE:
        last = first + len(shown)
        where = t("overview.page", lang, first=first + 1, last=last, count=len(doctors))
        body.append(paragraph(where, subtle=True))
    cohort, placement = only.cohort, only.placement
    buttons = [execute(t("overview.filter", lang), a.Overview(cohort=cohort, placement=placement))]
    if page > 0:
        back = a.Overview(cohort=cohort, placement=placement, page=page - 1)
        buttons.append(execute(t("overview.previous", lang), back))
    if page < pages - 1:
        forward = a.Overview(cohort=cohort, placement=placement, page=page + 1)
        buttons.append(execute(t("overview.next", lang), forward))
    buttons += [
        submit(t("overview.export", lang), a.ExportOverview(cohort=cohort, placement=placement)),
        submit(t("desk.files_title", lang), a.DeskFiles()),
    ]
    return card(body, buttons)


def _line(line: DoctorLine, mandatory: int, lang: Language) -> str:
    """ "**Name** · Akut sjukvård, unit · kurser 2/5 · 1 försenat · påmind 2026-11-20"."""
    parts = [f"**{line.name}**"]
    if line.placement is not None:
        placement = t(f"placement.{line.placement}", lang)
        parts.append(f"{placement}, {line.unit}" if line.unit else placement)
    else:
        parts.append(t("overview.no_placement", lang))
    parts.append(t("overview.courses", lang, done=line.mandatory_done, total=mandatory))
    if line.overdue:
        parts.append(t("overview.overdue", lang, count=line.overdue))
    if line.due_soon:
        parts.append(t("overview.due_soon", lang, count=line.due_soon, days=DUE_SOON_DAYS))
    if line.nudged_on is not None:
        parts.append(t("overview.nudged", lang, date=line.nudged_on.isoformat()))
    return " · ".join(parts)


def _choices(name: str, label: str, current: str | None, options: list[tuple[str, str]]) -> Element:
    return {
        "type": "Input.ChoiceSet",
        "id": name,
        "label": label,
        "style": "compact",
        "value": current or a.ALL,
        "choices": [{"title": title, "value": value} for value, title in options],
    }


def _placements(lang: Language) -> list[tuple[str, str]]:
    return [(a.ALL, t("overview.all_placements", lang))] + [
        (kind.value, t(f"placement.{kind}", lang)) for kind in PlacementKind
    ]
