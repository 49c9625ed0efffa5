"""The doctor's plan ("bedömningar"), a supervisor's trainees ("mina BT-läkare"), and acting on an
item from any card that lists it: "Markera som genomförd" (date, instrument, assessor) and
"Nytt datum", each a small form that replaces the card and, once saved, the card redrawn.

Every button on an item names the card it sits on (`ItemCard`) and the items that card lists, so
the answer to a click is that card as it stands now: a done item is gone from it at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from btassist.assessments import usecases
from btassist.assessments.models import ItemKind, ItemStatus
from btassist.assessments.policy import RegionPolicies
from btassist.assessments.service import ItemView, LineState, PlanRefusal, state_of
from btassist.assessments.sync import PLACEMENT_KINDS
from btassist.assessments.usecases import INSTRUMENT_KINDS, PlanRefused
from btassist.common.language import Language
from btassist.dialogs import actions as a
from btassist.dialogs.cards import Card, Element, bullet_list, card, execute, heading, paragraph
from btassist.dialogs.formatting import day
from btassist.dialogs.turn import FlowContext, Reply
from btassist.i18n.catalogue import t
from btassist.roster.identity import Actor
from btassist.roster.models import Role

MAX_LINES = 10
"""Items a card shows with their buttons; the rest are counted."""
PLAN_NOW = 5
"""Items the plan offers buttons for: overdue, today's, then the next ones."""
PLAN_AHEAD_DAYS = 14


def kind_name(view: ItemView, policies: RegionPolicies, language: Language) -> str:
    """What the doctor's region calls this kind of item ("Överrapporteringsmöte")."""
    policy = policies.get(view.doctor_region)
    return policy.name(view.item.kind, language) if policy else view.item.kind.value


def item_name(view: ItemView, policies: RegionPolicies, language: Language) -> str:
    """The region's name for an item, numbered within its placement and with the placement's
    unit when it belongs to one: "Bedömning 2 (Psykiatriska kliniken Varberg)"."""
    item = view.item
    name = kind_name(view, policies, language)
    if item.kind is ItemKind.assessment:
        name += f" {item.key.rsplit(':', 1)[-1]}"
    return f"{name} ({view.unit})" if view.unit and item.kind in PLACEMENT_KINDS else name


def _coordinating(actor: Actor) -> str | None:
    return actor.region if actor.coordinates else None


def item_buttons(
    actor: Actor, view: ItemView, *, on: a.ItemCard, shown: Iterable[int]
) -> list[Element]:
    """ "Markera som genomförd" and "Nytt datum", each if this person may."""
    lang, region = actor.language, _coordinating(actor)
    listed = list(shown)[: a.MAX_SHOWN]
    item_id = view.item.id or 0
    buttons = []
    if view.changeable_by(actor.person_id, coordinating_region=region):
        done = a.ItemDone(item_id=item_id, card=on, shown=listed)
        buttons.append(execute(t("reminder.mark_done", lang), done))
    if view.movable_by(actor.person_id, coordinating_region=region):
        move = a.NewItemDate(item_id=item_id, card=on, shown=listed)
        buttons.append(execute(t("reminder.new_date", lang), move))
    return buttons


def item_block(text: str, buttons: list[Element]) -> Element:
    """A line about an item with its own buttons beneath (a card may list several)."""
    items: list[Element] = [paragraph(text)]
    if buttons:
        items.append({"type": "ActionSet", "actions": buttons})
    return {"type": "Container", "items": items, "separator": True}


def state_text(view: ItemView, today: date, language: Language) -> str:
    """ "försenad (skulle ha gjorts …)", "senast …", "✓ genomförd …"."""
    item = view.item
    state = state_of(item, today)
    when = item.done_on if state is LineState.done and item.done_on else item.due
    return t(f"plan.state.{state.value}", language, date=day(when, language))


def overdue_line(view: ItemView, policies: RegionPolicies, language: Language) -> str:
    """ "**Amir Haddad**: Bedömning 1 (…), skulle ha gjorts …"."""
    return t(
        "reminder.overdue_line",
        language,
        doctor=view.doctor_name,
        item=item_name(view, policies, language),
        date=day(view.item.due, language),
    )


def overdue_card(
    ctx: FlowContext, actor: Actor, views: list[ItemView], *, on: a.ItemCard, note: str = ""
) -> Card:
    """A supervisor's (or studierektor's) overdue items, each with its buttons, in one card."""
    lang, policies = actor.language, ctx.region_policies()
    escalation = on is a.ItemCard.escalation
    key = "reminder.studierektor_overdue" if escalation else "reminder.supervisor_overdue"
    body: list[Element] = [paragraph(note)] if note else []
    if not views:
        body.append(paragraph(t("reminder.nothing_overdue", lang)))
        return card(body)
    body.append(paragraph(f"**{t(key, lang)}**"))
    shown = [view.item.id or 0 for view in views]
    for view in views[:MAX_LINES]:
        buttons = item_buttons(actor, view, on=on, shown=shown)
        body.append(item_block(overdue_line(view, policies, lang), buttons))
    if len(views) > MAX_LINES:
        body.append(paragraph(t("reminder.more", lang, count=len(views) - MAX_LINES), subtle=True))
    return card(body)


def items_card(
    ctx: FlowContext, actor: Actor, views: list[ItemView], *, intro: list[Element], note: str = ""
) -> Card:
    """A reminder listing items (the start of BT, what is left after one was done)."""
    lang, policies, today = actor.language, ctx.region_policies(), ctx.today()
    body: list[Element] = [paragraph(note)] if note else []
    body += intro if views else []
    shown = [view.item.id or 0 for view in views]
    for view in views[:MAX_LINES]:
        text = t(
            "plan.line",
            lang,
            item=item_name(view, policies, lang),
            state=state_text(view, today, lang),
        )
        if view.item.doctor_id != actor.person_id:
            text = f"**{view.doctor_name}**: {text}"
        body.append(
            item_block(text, item_buttons(actor, view, on=a.ItemCard.reminder, shown=shown))
        )
    return card(body)


# --- "bedömningar" ------------------------------------------------------------------------------


async def show_plan(ctx: FlowContext, actor: Actor, action: a.Assessments) -> list[Reply]:
    """ "Bedömningar": the doctor's plan and where each item stands; supervisors get their
    trainees."""
    if Role.doctor not in actor.roles:
        if Role.supervisor in actor.roles:
            return await show_trainees(ctx, actor, a.MyTrainees())
        return [Reply(text=t("plan.not_doctor", actor.language))]
    return [Reply(card=await plan_card(ctx, actor))]


async def plan_card(ctx: FlowContext, actor: Actor, note: str = "") -> Card:
    """The plan in date order with a summary; the items to do now get their buttons."""
    lang, policies, today = actor.language, ctx.region_policies(), ctx.today()
    lines = await usecases.doctor_plan(ctx.database, doctor_id=actor.person_id, today=today)
    body: list[Element] = [paragraph(note)] if note else []
    if not lines:
        return card([*body, paragraph(t("plan.empty", lang))])
    states = [line.state for line in lines]
    body += [
        heading(t("plan.title", lang)),
        paragraph(
            t(
                "plan.summary",
                lang,
                done=states.count(LineState.done),
                total=len(lines),
                overdue=states.count(LineState.overdue),
            )
        ),
        bullet_list(
            t(
                "plan.line",
                lang,
                item=item_name(line.view, policies, lang),
                state=state_text(line.view, today, lang),
            )
            for line in lines
        ),
    ]
    ahead = date.fromordinal(today.toordinal() + PLAN_AHEAD_DAYS)
    now = [
        line.view
        for line in lines
        if line.state in (LineState.overdue, LineState.today)
        or (line.state is LineState.upcoming and line.item.due <= ahead)
    ][:PLAN_NOW]
    if now:
        body.append(paragraph(t("plan.now", lang)))
        for view in now:
            text = t(
                "plan.line",
                lang,
                item=item_name(view, policies, lang),
                state=state_text(view, today, lang),
            )
            body.append(item_block(text, item_buttons(actor, view, on=a.ItemCard.plan, shown=[])))
    policy = policies.get(actor.region)
    if policy and any(policy.caution(kind) for kind in {line.item.kind for line in lines}):
        body.append(paragraph(t("plan.caution", lang), subtle=True))
    return card(body)


# --- "mina BT-läkare" ---------------------------------------------------------------------------


async def show_trainees(ctx: FlowContext, actor: Actor, action: a.MyTrainees) -> list[Reply]:
    """ "Mina BT-läkare": each trainee, how I supervise them, and what is overdue."""
    trainees_card = await trainees_card_of(ctx, actor)
    if trainees_card is None:
        return [Reply(text=t("trainees.none", actor.language))]
    return [Reply(card=trainees_card)]


async def trainees_card_of(ctx: FlowContext, actor: Actor, note: str = "") -> Card | None:
    """The trainees card; None for someone supervising nobody now."""
    lang, policies, today = actor.language, ctx.region_policies(), ctx.today()
    trainees = await usecases.my_trainees(ctx.database, supervisor_id=actor.person_id, today=today)
    if not trainees:
        return card([paragraph(note)]) if note else None
    body: list[Element] = [paragraph(note)] if note else []
    body.append(heading(t("trainees.title", lang)))
    listed = 0
    for plan in trainees:
        trainee = plan.trainee
        relation = t(
            "role.main_supervisor" if trainee.is_main_supervisor else "role.supervisor", lang
        )
        placement = (
            t(
                "trainees.current_placement",
                lang,
                kind=t(f"placement.{trainee.current.kind}", lang),
                unit=trainee.current.unit,
            )
            if trainee.current
            else ""
        )
        text = t("trainees.line", lang, name=trainee.name, relation=relation, placement=placement)
        body.append({**paragraph(text), "weight": "Bolder", "separator": True})
        if not plan.overdue:
            body.append(paragraph(t("plan.trainee_nothing_overdue", lang), subtle=True))
        for view in plan.overdue:
            listed += 1
            if listed > MAX_LINES:
                continue
            line = t(
                "plan.line",
                lang,
                item=item_name(view, policies, lang),
                state=state_text(view, today, lang),
            )
            buttons = item_buttons(actor, view, on=a.ItemCard.trainees, shown=[])
            body.append(item_block(line, buttons))
    if listed > MAX_LINES:
        body.append(paragraph(t("reminder.more", lang, count=listed - MAX_LINES), subtle=True))
    return card(body)


# --- acting on an item --------------------------------------------------------------------------


async def redraw(
    ctx: FlowContext, actor: Actor, on: a.ItemCard, shown: list[int], note: str
) -> Card:
    """The card an item's button sat on, as it stands now, with `note` at the top."""
    if on is a.ItemCard.plan:
        return await plan_card(ctx, actor, note)
    if on is a.ItemCard.trainees:
        return await trainees_card_of(ctx, actor, note) or card([paragraph(note)])
    views = await usecases.items(ctx.database, shown)
    if on in (a.ItemCard.nudge, a.ItemCard.escalation):
        return overdue_card(ctx, actor, views, on=on, note=note)
    return items_card(ctx, actor, views, intro=[], note=note)


async def show_items(ctx: FlowContext, actor: Actor, action: a.ShowItems) -> list[Reply]:
    """ "Avbryt" on a form: the card it came from."""
    return [Reply(card=await redraw(ctx, actor, action.card, action.shown, ""), replace=True)]


def _form_button(title: str, action: a.Action) -> Element:
    """A button whose data leaves room for the form's inputs (merged in by Teams)."""
    button = execute(title, action)
    button["data"] = {key: value for key, value in button["data"].items() if value is not None}
    return button


def _error(text: str) -> Element:
    return {"type": "TextBlock", "text": text, "wrap": True, "color": "Attention"}


def _form(
    actor: Actor,
    view: ItemView,
    *,
    title: str,
    error: str,
    inputs: list[Element],
    save: a.ItemDone | a.NewItemDate,
) -> Card:
    """A small form about one item: its title (and doctor), an error, inputs, Spara/Avbryt."""
    lang = actor.language
    if view.item.doctor_id != actor.person_id:
        title += f" – {view.doctor_name}"
    body = [heading(title), *([_error(error)] if error else []), *inputs]
    cancel = execute(t("item.cancel", lang), a.ShowItems(card=save.card, shown=save.shown))
    return card(body, [_form_button(t("item.save", lang), save), cancel])


def _date_input(name: str, label: str, value: date, **bound: date) -> Element:
    limits = {key: limit.isoformat() for key, limit in bound.items()}
    return {"type": "Input.Date", "id": name, "label": label, "value": value.isoformat(), **limits}


def done_form(
    ctx: FlowContext, actor: Actor, view: ItemView, action: a.ItemDone, error: str = ""
) -> Card:
    """Date (today unless changed), instrument where the item has one, assessor."""
    lang, policies, today = actor.language, ctx.region_policies(), ctx.today()
    inputs = [_date_input("on", t("item.done_on", lang), action.on or today, max=today)]
    policy = policies.get(view.doctor_region)
    if policy is not None and view.item.kind in INSTRUMENT_KINDS:
        inputs.append(
            {
                "type": "Input.ChoiceSet",
                "id": "instrument",
                "label": t("item.instrument", lang),
                "style": "compact",
                "value": action.instrument or "",
                "choices": [
                    {"title": name, "value": name} for name in policy.assessments.instruments
                ],
            }
        )
    assessor = action.assessor or (
        actor.name if actor.person_id != view.item.doctor_id else view.handledare_name or ""
    )
    inputs.append(
        {
            "type": "Input.Text",
            "id": "assessor",
            "label": t("item.assessor", lang),
            "value": assessor,
            "maxLength": 200,
        }
    )
    return _form(
        actor,
        view,
        title=t("item.done_title", lang, item=item_name(view, policies, lang)),
        error=error,
        inputs=inputs,
        save=a.ItemDone(item_id=action.item_id, card=action.card, shown=action.shown, save=True),
    )


def date_form(
    ctx: FlowContext, actor: Actor, view: ItemView, action: a.NewItemDate, error: str = ""
) -> Card:
    """A date picker for the item's new date (today or later)."""
    lang, policies, today = actor.language, ctx.region_policies(), ctx.today()
    due = max(action.due or view.item.due, today)
    return _form(
        actor,
        view,
        title=t(
            "item.new_date_title",
            lang,
            item=item_name(view, policies, lang),
            date=day(view.item.due, lang),
        ),
        error=error,
        inputs=[_date_input("due", t("item.due", lang), due, min=today)],
        save=a.NewItemDate(item_id=action.item_id, card=action.card, shown=action.shown, save=True),
    )


async def _current(
    ctx: FlowContext, actor: Actor, action: a.ItemDone | a.NewItemDate
) -> ItemView | list[Reply]:
    """The item to show a form for, or the answer when there is nothing to fill in."""
    lang, policies = actor.language, ctx.region_policies()
    found = await usecases.items(ctx.database, [action.item_id], open_only=False)
    view = found[0] if found else None
    if view is None or view.item.status is ItemStatus.cancelled:
        note = t("item.gone", lang)
    elif view.item.status is ItemStatus.done and view.item.done_on:
        name = item_name(view, policies, lang)
        note = t("item.already_done", lang, item=name, date=day(view.item.done_on, lang))
    else:
        return view
    return [Reply(card=await redraw(ctx, actor, action.card, action.shown, note), replace=True)]


async def mark_item_done(ctx: FlowContext, actor: Actor, action: a.ItemDone) -> list[Reply]:
    """ "Markera som genomförd": the form, then the record and the card redrawn without it."""
    lang, today = actor.language, ctx.today()

    async def record() -> ItemView | PlanRefused:
        return await usecases.record_done(
            ctx.database,
            item_id=action.item_id,
            by_person_id=actor.person_id,
            on=action.on or today,
            today=today,
            instrument=action.instrument,
            assessor=action.assessor,
            now=ctx.now(),
            policies=ctx.region_policies(),
        )

    def done(view: ItemView) -> str:
        name = item_name(view, ctx.region_policies(), lang)
        return t("item.done", lang, item=name, date=day(view.item.done_on or today, lang))

    change = record if action.save else None
    return await _on_item(ctx, actor, action, DONE, change, done)


async def new_item_date(ctx: FlowContext, actor: Actor, action: a.NewItemDate) -> list[Reply]:
    """ "Nytt datum": the date form, then the new date and the card redrawn."""
    lang, due = actor.language, action.due

    async def move() -> ItemView | PlanRefused:
        assert due is not None
        return await usecases.set_new_date(
            ctx.database,
            item_id=action.item_id,
            by_person_id=actor.person_id,
            due=due,
            today=ctx.today(),
            now=ctx.now(),
        )

    def moved(view: ItemView) -> str:
        name = item_name(view, ctx.region_policies(), lang)
        return t("item.moved", lang, item=name, date=day(view.item.due, lang))

    change = move if action.save and due is not None else None  # no date given: the form again
    return await _on_item(ctx, actor, action, MOVE, change, moved)


@dataclass(frozen=True)
class _ItemChange:
    """What differs between marking an item done and moving it."""

    allowed: Callable[[ItemView, int, str | None], bool]
    form: Callable[[FlowContext, Actor, ItemView, Any, str], Card]
    not_allowed: str  # the message key for someone not allowed


DONE = _ItemChange(
    lambda view, person, region: view.changeable_by(person, coordinating_region=region),
    done_form,
    "item.not_allowed",
)
MOVE = _ItemChange(
    lambda view, person, region: view.movable_by(person, coordinating_region=region),
    date_form,
    "item.move_not_allowed",
)


async def _on_item(
    ctx: FlowContext,
    actor: Actor,
    action: a.ItemDone | a.NewItemDate,
    kind: _ItemChange,
    change: Callable[[], Awaitable[ItemView | PlanRefused]] | None,
    note: Callable[[ItemView], str],
) -> list[Reply]:
    """Without `change` the form (for whoever may), else the change and the card redrawn with
    `note`; a refusal shows the form again with the reason, or says no politely."""
    lang = actor.language
    if change is None:
        current = await _current(ctx, actor, action)
        if not isinstance(current, ItemView):
            return current
        if not kind.allowed(current, actor.person_id, _coordinating(actor)):
            return [Reply(text=t(kind.not_allowed, lang), replace=True)]
        return [Reply(card=kind.form(ctx, actor, current, action, ""), replace=True)]
    outcome = await change()
    if isinstance(outcome, PlanRefused):
        if outcome.view is not None and outcome.reason in FORM_ERRORS:
            error = t(FORM_ERRORS[outcome.reason], lang)
            return [Reply(card=kind.form(ctx, actor, outcome.view, action, error), replace=True)]
        if outcome.reason is PlanRefusal.not_allowed:
            return [Reply(text=t(kind.not_allowed, lang), replace=True)]
        outcome_note = t("item.gone", lang)
    else:
        outcome_note = note(outcome)
    card_now = await redraw(ctx, actor, action.card, action.shown, outcome_note)
    return [Reply(card=card_now, replace=True)]


FORM_ERRORS = {
    PlanRefusal.in_the_future: "item.in_the_future",
    PlanRefusal.in_the_past: "item.in_the_past",
    PlanRefusal.unknown_instrument: "item.unknown_instrument",
}
