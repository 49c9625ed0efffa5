"""Typed actions: what a person asks the bot to do, by typing or by clicking a card button.

Every button carries one of these models as its data (`verb` names the model), and typed
requests are turned into the same models, so a flow handles one action however it arrived.
Data that does not parse — a string where an id belongs, a number too large for the database, a
missing field, a button from an older release — is refused before any flow runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from btassist.common.ids import Id
from btassist.roster.models import PlacementKind, Role

COORDINATORS = frozenset({Role.coordinator, Role.studierektor})
DOCTORS = frozenset({Role.doctor})
SUPERVISORS = frozenset({Role.supervisor})

Query = Annotated[str, Field(max_length=200)]
Question = Annotated[str, Field(max_length=500)]
RegionCode = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[a-z]+$")]
EntryId = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9-]*$")]


class Verb(StrEnum):
    """Every action's name: the `verb` in a button's data."""

    help = "help"
    courses = "courses"
    my_courses = "my_courses"
    course = "course"
    enrol = "enrol"
    withdraw = "withdraw"
    report_done = "report_done"
    participants = "participants"
    attendance_form = "attendance_form"
    attendance = "attendance"
    calendar = "calendar"
    calendar_link = "calendar_link"
    assessments = "assessments"
    ask = "ask"
    my_trainees = "my_trainees"
    broadcast = "broadcast"
    reports = "reports"
    faq_topic = "faq_topic"
    faq_vote = "faq_vote"
    faq_forward = "faq_forward"
    faq_reply = "faq_reply"
    english = "english"
    swedish = "swedish"
    confirm = "confirm"
    cancel = "cancel"
    # Broadcasts
    broadcast_options = "broadcast_options"
    broadcast_edit = "broadcast_edit"
    broadcast_send = "broadcast_send"
    broadcast_report = "broadcast_report"
    broadcast_cancel = "broadcast_cancel"
    broadcast_recall = "broadcast_recall"
    broadcast_ack = "broadcast_ack"
    broadcast_ask_author = "broadcast_ask_author"
    # Assessments and reminders
    item_done = "item_done"
    item_new_date = "item_new_date"
    item_list = "item_list"
    pause_reminders = "pause_reminders"
    resume_reminders = "resume_reminders"
    # Reach and privacy (issues 16 and 13)
    unreachable = "unreachable"
    my_data = "my_data"
    erase_my_data = "erase_my_data"
    # the coordinator's desk: Excel in and out, the cohort overview (issue 15)
    import_upload = "import_upload"
    desk_files = "desk_files"
    export_roster = "export_roster"
    export_sessions = "export_sessions"
    export_participants = "export_participants"
    export_plans = "export_plans"
    overview = "overview"
    export_overview = "export_overview"
    # one-sentence requests (dialogs/understanding.py)
    enrol_in = "enrol_in"
    sessions = "sessions"
    withdraw_from = "withdraw_from"
    courses_left = "courses_left"
    thanks = "thanks"
    faq_other = "faq_other"


class Action(BaseModel):
    """One request to the bot. `roles` limits who may ask (None: everyone on the roster);
    `flow` names the conversation flow a button belongs to, so clicking it keeps that flow's
    waiting step (any other click leaves it)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    roles: ClassVar[frozenset[Role] | None] = None
    flow: ClassVar[str | None] = None
    verb: Verb

    def allowed(self, roles: frozenset[Role]) -> bool:
        """Whether someone holding `roles` may ask for this."""
        return self.roles is None or bool(self.roles & roles)

    def data(self) -> dict[str, Any]:
        """The button data that comes back as this action."""
        return self.model_dump(mode="json", exclude_defaults=False)


class Help(Action):
    verb: Literal[Verb.help] = Verb.help


class Courses(Action):
    verb: Literal[Verb.courses] = Verb.courses


class MyCourses(Action):
    verb: Literal[Verb.my_courses] = Verb.my_courses


class ShowCourse(Action):
    """A course's card, by id (a button) or by what someone typed ("kurs stas")."""

    verb: Literal[Verb.course] = Verb.course
    course_id: Id | None = None
    query: Query = ""


class Enrol(Action):
    roles = DOCTORS
    verb: Literal[Verb.enrol] = Verb.enrol
    session_id: Id
    confirmed: bool = False  # the doctor saw the clashes and enrols anyway


class Withdraw(Action):
    """ "Avanmäl" on a card acts at once; asked for in a sentence, it is confirmed first
    (`confirmed` is set when the person said yes)."""

    roles = DOCTORS
    verb: Literal[Verb.withdraw] = Verb.withdraw
    session_id: Id
    confirmed: bool = False


class ReportDone(Action):
    roles = DOCTORS
    verb: Literal[Verb.report_done] = Verb.report_done
    course_id: Id


class Participants(Action):
    roles = COORDINATORS
    verb: Literal[Verb.participants] = Verb.participants
    course_id: Id | None = None
    query: Query = ""


class AttendanceForm(Action):
    roles = COORDINATORS
    verb: Literal[Verb.attendance_form] = Verb.attendance_form
    session_id: Id


PRESENT = "present_"
"""Toggle inputs of the attendance card are named `present_<doctor id>`."""


class SaveAttendance(Action):
    """The attendance card's save button, with the ids whose toggles were on."""

    roles = COORDINATORS
    verb: Literal[Verb.attendance] = Verb.attendance
    session_id: Id
    present: list[Id] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="before")
    @classmethod
    def _toggles(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or "present" in data:
            return data
        ticked = [
            key.removeprefix(PRESENT)
            for key, value in data.items()
            if isinstance(key, str) and key.startswith(PRESENT) and str(value).lower() == "true"
        ]
        return {**data, "present": ticked}


class Calendar(Action):
    verb: Literal[Verb.calendar] = Verb.calendar


class NewCalendarLink(Action):
    """A new personal feed link; the old one stops working, so it is confirmed first."""

    verb: Literal[Verb.calendar_link] = Verb.calendar_link
    confirmed: bool = False


class Assessments(Action):
    verb: Literal[Verb.assessments] = Verb.assessments


class Ask(Action):
    verb: Literal[Verb.ask] = Verb.ask


class MyTrainees(Action):
    roles = SUPERVISORS
    verb: Literal[Verb.my_trainees] = Verb.my_trainees


class Broadcast(Action):
    """ "Skicka meddelande": anyone may ask; the composer answers non-coordinators politely."""

    verb: Literal[Verb.broadcast] = Verb.broadcast


class Reports(Action):
    roles = COORDINATORS
    verb: Literal[Verb.reports] = Verb.reports


class FaqTopic(Action):
    """A suggested FAQ topic was clicked."""

    verb: Literal[Verb.faq_topic] = Verb.faq_topic
    entry: EntryId
    q: Question = ""


class FaqVote(Action):
    verb: Literal[Verb.faq_vote] = Verb.faq_vote
    entry: EntryId
    helpful: bool
    q: Question = ""


class FaqForward(Action):
    """ "Fråga en person": send the question to the region's coordinators (`region`: another
    region than the asker's, when the question is about that one)."""

    verb: Literal[Verb.faq_forward] = Verb.faq_forward
    q: Annotated[str, Field(min_length=1, max_length=500)]
    region: RegionCode | None = None


class FaqReply(Action):
    """A coordinator's "Svara" on a forwarded question: their next message is the answer."""

    roles = COORDINATORS
    flow = "faq_reply"
    verb: Literal[Verb.faq_reply] = Verb.faq_reply
    question_id: Id


class English(Action):
    verb: Literal[Verb.english] = Verb.english


class Swedish(Action):
    verb: Literal[Verb.swedish] = Verb.swedish


class Confirm(Action):
    """ "Ja": go ahead with what the person was asked to confirm (kept in conversation state);
    the nonce ties the button to the question it was shown with."""

    flow = "confirm"
    verb: Literal[Verb.confirm] = Verb.confirm
    nonce: Annotated[str, Field(min_length=8, max_length=16, pattern=r"^[0-9a-f]+$")]


class Cancel(Action):
    """ "Avbryt": leave whatever the bot was waiting for."""

    verb: Literal[Verb.cancel] = Verb.cancel


# Broadcasts ------------------------------------------------------------------------------------

COMPOSER = "broadcast"
"""The composer's conversation flow: the author's typed text, then the audience form."""


ANY = "any"
"""A choice set's "no filter" (Teams wants a value on every choice)."""


def _blank_is_none(value: Any) -> Any:
    """An input left empty arrives as "" (a choice set's "no filter" as "any"): not given."""
    return None if isinstance(value, str) and value.strip() in {"", ANY} else value


class BroadcastOptions(Action):
    """The audience-and-options form ("Förhandsgranska"): its inputs arrive as these fields."""

    roles = COORDINATORS
    flow = COMPOSER
    verb: Literal[Verb.broadcast_options] = Verb.broadcast_options
    broadcast_id: Id
    regions: Annotated[str, Field(max_length=200)] = ""
    role: Literal["doctors", "supervisors", "both"] = "doctors"
    cohort_from: date | None = None
    cohort_to: date | None = None
    placement: Literal["akut", "primarvard", "psykiatri", "valfri"] | None = None
    target: Annotated[str, Field(max_length=100, pattern=r"^((course|session):[\w-]+)?$")] = ""
    enrolled: Literal["participants", "waitlist", "both"] = "participants"
    ack: bool = False
    send_date: date | None = None
    send_time: time | None = None

    @model_validator(mode="before")
    @classmethod
    def _form(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        return {key: _blank_is_none(value) for key, value in data.items()} | {
            key: "" if data.get(key) in (None, ANY) else data[key]
            for key in ("regions", "target")
            if key in data
        }

    def data(self) -> dict[str, Any]:
        """Only the id: the form's inputs supply the rest (and must not be shadowed)."""
        return {"verb": self.verb.value, "broadcast_id": self.broadcast_id}


class BroadcastEdit(Action):
    """Back from the preview to the form."""

    roles = COORDINATORS
    flow = COMPOSER
    verb: Literal[Verb.broadcast_edit] = Verb.broadcast_edit
    broadcast_id: Id


class BroadcastSend(Action):
    """Send the previewed announcement (confirmed first)."""

    roles = COORDINATORS
    verb: Literal[Verb.broadcast_send] = Verb.broadcast_send
    broadcast_id: Id
    confirmed: bool = False


class BroadcastReport(Action):
    """The report card, refreshed in place."""

    roles = COORDINATORS
    verb: Literal[Verb.broadcast_report] = Verb.broadcast_report
    broadcast_id: Id


class BroadcastCancel(Action):
    roles = COORDINATORS
    verb: Literal[Verb.broadcast_cancel] = Verb.broadcast_cancel
    broadcast_id: Id
    confirmed: bool = False


class BroadcastRecall(Action):
    roles = COORDINATORS
    verb: Literal[Verb.broadcast_recall] = Verb.broadcast_recall
    broadcast_id: Id
    confirmed: bool = False


class BroadcastAck(Action):
    """A recipient's "Uppfattat"."""

    verb: Literal[Verb.broadcast_ack] = Verb.broadcast_ack
    broadcast_id: Id


class BroadcastAskAuthor(Action):
    """A recipient's question about an announcement, to its author."""

    verb: Literal[Verb.broadcast_ask_author] = Verb.broadcast_ask_author
    broadcast_id: Id
    q: Annotated[str, Field(min_length=1, max_length=500)]


# Assessments and reminders


class ItemCard(StrEnum):
    """The card an item's buttons sit on: acting on the item redraws that card in place."""

    reminder = "reminder"  # a reminder about the item (due, start of BT, meeting)
    nudge = "nudge"  # a supervisor's overdue trainees
    escalation = "escalation"  # a studierektor's items overdue for two weeks
    plan = "plan"  # the doctor's "bedömningar"
    trainees = "trainees"  # a supervisor's "mina BT-läkare"


MAX_SHOWN = 20
"""Items one card lists (and its buttons remember, to redraw it)."""
Shown = Annotated[list[Id], Field(max_length=MAX_SHOWN)]
Instrument = Annotated[str, Field(max_length=50)]
ReminderChoice = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z_]+$")]
"""A reminder kind's name (a NoticeKind value), or "all"."""


class _OnItem(BaseModel):
    """An item of a plan and the card its button sits on (`shown`: what that card lists, to
    redraw it); without `save` the action asks for a form, with it the form's inputs are in
    the data."""

    item_id: Id
    card: ItemCard = ItemCard.reminder
    shown: Shown = Field(default_factory=list)
    save: bool = False


class ItemDone(Action, _OnItem):
    """ "Markera som genomförd": the form (date, instrument, assessor), then the record."""

    verb: Literal[Verb.item_done] = Verb.item_done
    on: date | None = None
    instrument: Instrument | None = None
    assessor: str | None = None

    _blank = field_validator("on", "instrument", "assessor", mode="before")(_blank_is_none)

    @field_validator("assessor")
    @classmethod
    def _short_assessor(cls, value: str | None) -> str | None:
        return value.strip()[:200] if value else None


class NewItemDate(Action, _OnItem):
    """ "Nytt datum" (supervisors and coordinators): the date form, then the new date."""

    verb: Literal[Verb.item_new_date] = Verb.item_new_date
    due: date | None = None

    _blank = field_validator("due", mode="before")(_blank_is_none)


class ShowItems(Action):
    """ "Avbryt" on an item's form: the card it came from, as it stands now."""

    verb: Literal[Verb.item_list] = Verb.item_list
    card: ItemCard = ItemCard.reminder
    shown: Shown = Field(default_factory=list)


class PauseReminders(Action):
    """ "Pausa påminnelser": without a kind, which to pause; "all" pauses every kind."""

    verb: Literal[Verb.pause_reminders] = Verb.pause_reminders
    kind: ReminderChoice | None = None


class ResumeReminders(Action):
    """ "Återuppta påminnelser": without a kind, which to resume; "all" resumes every kind."""

    verb: Literal[Verb.resume_reminders] = Verb.resume_reminders
    kind: ReminderChoice | None = None


# Reach and privacy (issues 16 and 13)
class WhoIsUnreachable(Action):
    """ "Vilka når du inte?": who in the coordinator's region the bot cannot message, and why."""

    roles = COORDINATORS
    verb: Literal[Verb.unreachable] = Verb.unreachable


class MyData(Action):
    """ "Mina uppgifter": a one-time link to everything stored about the person."""

    verb: Literal[Verb.my_data] = Verb.my_data


class EraseMyData(Action):
    """ "Radera mina uppgifter": erase the person's data (asked to confirm first)."""

    verb: Literal[Verb.erase_my_data] = Verb.erase_my_data
    confirmed: bool = False


# --- the coordinator's desk: Excel in and out, the cohort overview (issue 15) ---------------------

Cohort = Annotated[str, Field(pattern=r"^\d{4}-\d{2}$")]
"""A cohort: the BT start month, `2026-09`."""


class ImportUpload(Action):
    """ "Importera" under a previewed file (confirmed through dialogs/confirm.py)."""

    roles = COORDINATORS
    verb: Literal[Verb.import_upload] = Verb.import_upload
    upload_id: Id
    confirmed: bool = False


class DeskFiles(Action):
    """What a coordinator can send and export as Excel files."""

    roles = COORDINATORS
    verb: Literal[Verb.desk_files] = Verb.desk_files


class ExportRoster(Action):
    roles = COORDINATORS
    verb: Literal[Verb.export_roster] = Verb.export_roster


class ExportSessions(Action):
    roles = COORDINATORS
    verb: Literal[Verb.export_sessions] = Verb.export_sessions


class ExportParticipants(Action):
    """Participants of a session (`session_id`) or of a course (by id, or as typed) as a file."""

    roles = COORDINATORS
    verb: Literal[Verb.export_participants] = Verb.export_participants
    course_id: Id | None = None
    session_id: Id | None = None
    query: Query = ""


class ExportPlans(Action):
    roles = COORDINATORS
    verb: Literal[Verb.export_plans] = Verb.export_plans


ALL = "all"
"""What the overview's choice sets send for "every cohort" / "every placement"."""


class _Filters(BaseModel):
    """The overview's filters: a cohort and a kind of current placement ("all" or blank: none)."""

    cohort: Cohort | None = None
    placement: PlacementKind | None = None

    @model_validator(mode="before")
    @classmethod
    def _all_is_no_filter(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        return {
            key: value
            for key, value in data.items()
            if key not in ("cohort", "placement") or value not in (None, "", ALL)
        }


class Overview(_Filters, Action):
    roles = COORDINATORS
    verb: Literal[Verb.overview] = Verb.overview
    page: int = Field(0, ge=0, le=100_000)


class ExportOverview(_Filters, Action):
    roles = COORDINATORS
    verb: Literal[Verb.export_overview] = Verb.export_overview


# --- one-sentence requests (dialogs/understanding.py) -----------------------------------------


class EnrolIn(Action):
    """ "Anmäl mig till X (i mars)": the course's session (in that time) to confirm."""

    roles = DOCTORS
    verb: Literal[Verb.enrol_in] = Verb.enrol_in
    course_id: Id
    start: date | None = None
    end: date | None = None


class Sessions(Action):
    """ "När är nästa X (i mars)?": the course's sessions (in that time)."""

    verb: Literal[Verb.sessions] = Verb.sessions
    course_id: Id
    start: date | None = None
    end: date | None = None


class WithdrawFrom(Action):
    """ "Avanmäl mig (från X)": the seats held (in X, in that time), to confirm or choose."""

    roles = DOCTORS
    verb: Literal[Verb.withdraw_from] = Verb.withdraw_from
    course_id: Id | None = None
    start: date | None = None
    end: date | None = None


class CoursesLeft(Action):
    """ "Vilka kurser har jag kvar?": the mandatory courses not yet done."""

    verb: Literal[Verb.courses_left] = Verb.courses_left


class Thanks(Action):
    verb: Literal[Verb.thanks] = Verb.thanks


class FaqOther(Action):
    """ "Inte vad jag frågade" under a probable answer: the next topics and a person."""

    verb: Literal[Verb.faq_other] = Verb.faq_other
    q: Annotated[str, Field(min_length=1, max_length=500)]


AnyAction = Annotated[
    Help
    | Courses
    | MyCourses
    | ShowCourse
    | Enrol
    | Withdraw
    | ReportDone
    | Participants
    | AttendanceForm
    | SaveAttendance
    | Calendar
    | NewCalendarLink
    | Assessments
    | Ask
    | MyTrainees
    | Broadcast
    | Reports
    | FaqTopic
    | FaqVote
    | FaqForward
    | FaqReply
    | English
    | Swedish
    | Confirm
    | Cancel
    # Broadcasts
    | BroadcastOptions
    | BroadcastEdit
    | BroadcastSend
    | BroadcastReport
    | BroadcastCancel
    | BroadcastRecall
    | BroadcastAck
    | BroadcastAskAuthor
    # Assessments and reminders
    | ItemDone
    | NewItemDate
    | ShowItems
    | PauseReminders
    | ResumeReminders
    # Reach and privacy (issues 16 and 13)
    | WhoIsUnreachable
    | MyData
    | EraseMyData
    # the coordinator's desk (issue 15)
    | ImportUpload
    | DeskFiles
    | ExportRoster
    | ExportSessions
    | ExportParticipants
    | ExportPlans
    | Overview
    | ExportOverview
    # one-sentence requests (dialogs/understanding.py)
    | EnrolIn
    | Sessions
    | WithdrawFrom
    | CoursesLeft
    | Thanks
    | FaqOther,
    Field(discriminator="verb"),
]
_ACTIONS: TypeAdapter[AnyAction] = TypeAdapter(AnyAction)


def parse_action(data: Mapping[str, Any]) -> Action | None:
    """The action a button's data stands for; None when it cannot be one of this release's."""
    try:
        return _ACTIONS.validate_python(dict(data))
    except ValidationError:
        return None
