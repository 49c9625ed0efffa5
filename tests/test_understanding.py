"""Reading one-sentence requests without the chat: time phrases, what is wanted, which course."""

from __future__ import annotations

from datetime import date

import pytest

from btassist.common.language import Language
from btassist.courses.mentions import spot_courses
from btassist.courses.models import Course, CourseKind
from btassist.dialogs import actions as a
from btassist.dialogs import understanding as u
from btassist.dialogs.when import Window, prepare, read_time
from btassist.roster.models import Role

TODAY = date(2027, 1, 13)  # a Wednesday
DOCTOR = frozenset({Role.doctor})
COURSES = [
    Course(id=1, code="h-fm", title_sv="Försäkringsmedicin AT/BT", title_en="Insurance medicine",
           kind=CourseKind.kurs),
    Course(id=2, code="h-webb-fm", title_sv='Webbutbildning "Klinisk försäkringsmedicin"',
           title_en='Web course "Clinical insurance medicine"', kind=CourseKind.webbkurs),
    Course(id=3, code="h-stas", title_sv="StAS – Strukturerat omhändertagande",
           title_en="StAS – Structured management", kind=CourseKind.kurs),
    Course(id=4, code="h-vald", title_sv="Temadag: Våld i nära relationer",
           title_en="Theme day: Intimate partner violence", kind=CourseKind.temadag),
    Course(id=5, code="h-smarta", title_sv="Temadag: Smärta och palliation",
           title_en="Theme day: Pain and palliation", kind=CourseKind.temadag),
]  # fmt: skip


def knows(word: str) -> bool:
    return word in {"bt", "psykiatri", "placering", "handledare", "forsakringsmedicin"}


def interpret(text: str, roles: frozenset[Role] = DOCTOR) -> u.Interpretation | None:
    return u.interpret(
        text, roles=roles, language=Language.sv, today=TODAY, courses=COURSES, knows=knows
    )


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("i mars", Window(date(2027, 3, 1), date(2027, 3, 31))),
        ("nästa vecka", Window(date(2027, 1, 18), date(2027, 1, 24))),
        ("den 14 januari", Window(date(2027, 1, 14), date(2027, 1, 14))),
        ("vecka 12", Window(date(2027, 3, 22), date(2027, 3, 28))),
        ("i januari", Window(date(2027, 1, 1), date(2027, 1, 31))),
        ("imorgon", Window(date(2027, 1, 14), date(2027, 1, 14))),
        ("in April", Window(date(2027, 4, 1), date(2027, 4, 30))),
        ("14/3", Window(date(2027, 3, 14), date(2027, 3, 14))),
    ],
)
def test_time_phrases_become_windows(text: str, window: Window) -> None:
    found = read_time(prepare(f"anmäl mig {text} tack"), today=TODAY)
    assert found is not None
    assert found.window == window


@pytest.mark.parametrize("text", ["may I enrol", "efter jul", "hur lång är BT"])
def test_no_time_where_there_is_none(text: str) -> None:
    assert read_time(prepare(text), today=TODAY) is None


def test_enrol_with_a_month_is_one_typed_action() -> None:
    found = interpret("anmal mig till forsakringsmedicin i mars")
    assert found == u.Act(a.EnrolIn(course_id=1, start=date(2027, 3, 1), end=date(2027, 3, 31))), (
        "the web course has no sessions, so the course with sessions is meant"
    )


def test_several_courses_are_a_choice_and_none_the_closest() -> None:
    found = interpret("anmäl mig till temadagen")
    assert isinstance(found, u.Choose)
    assert {course.id for course, _ in found.actions} == {4, 5}
    missing = interpret("anmäl mig till kursen i EKG-tolkning")
    assert isinstance(missing, u.NoCourse)
    assert all(isinstance(action, a.EnrolIn) for _, action in missing.closest)


def test_withdraw_and_who_is_my_and_thanks() -> None:
    assert interpret("avboka min plats på stas") == u.Act(a.WithdrawFrom(course_id=3))
    assert interpret("vem är min huvudhandledare?") == u.Act(
        a.FaqTopic(entry="contact-main-supervisor")
    )
    assert interpret("tusen tack!") == u.Act(a.Thanks())


def test_roles_decide_what_a_sentence_means() -> None:
    supervisor = frozenset({Role.supervisor})
    assert interpret("vad ska jag som handledare göra?", supervisor) == u.Act(
        a.FaqTopic(entry=u.SUPERVISOR_GUIDE)
    )
    assert interpret("anmäl mig till stas", supervisor) == u.Act(a.ShowCourse(course_id=3))
    coordinator = frozenset({Role.coordinator})
    assert interpret("vilka är anmälda till stas?", coordinator) == u.Act(
        a.Participants(course_id=3)
    )


@pytest.mark.parametrize("text", ["asdkjh qwe zzz", "ok", "???", "kkkkkk", "bla bla"])
def test_nothing_to_act_on(text: str) -> None:
    assert interpret(text) == u.Meaningless()


@pytest.mark.parametrize(
    "text",
    [
        "hur lång är kursen i försäkringsmedicin?",
        "vad är en mini-cex?",
        "måste jag göra psykiatri?",
        "finns det ett gym i Gävle",
    ],
)
def test_questions_are_left_to_the_faq(text: str) -> None:
    assert interpret(text) is None


JUNE = (date(2027, 6, 1), date(2027, 6, 30))
MARCH = (date(2027, 3, 1), date(2027, 3, 31))


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("skriv upp mig på palliationsdagen", a.EnrolIn(course_id=5)),
        ("kan jag hänga med på våldsdagen?", a.EnrolIn(course_id=4)),
        ("vill gärna gå smärtdagen", a.EnrolIn(course_id=5)),
        ("can you put me down for StAS in March?", a.EnrolIn(course_id=3, start=MARCH[0],
                                                              end=MARCH[1])),
        ("add me to the paliative care theme day", a.EnrolIn(course_id=5)),
        ("finns det plats på stas", a.EnrolIn(course_id=3)),
        ("take me off StAS", a.WithdrawFrom(course_id=3)),
        ("jag kan inte komma på våldsdagen", a.WithdrawFrom(course_id=4)),
        ("I'm sick and can't go to StAS", a.WithdrawFrom(course_id=3)),
        ("unregister me please", a.WithdrawFrom()),
        ("nar kommer nasta stas-tillfalle", a.Sessions(course_id=3)),
        ("går försäkringsmedicin nåt i juni?", a.Sessions(course_id=1, start=JUNE[0],
                                                          end=JUNE[1])),
        ("vilka dagar är smärtdagen", a.Sessions(course_id=5)),
        ("har jag gått alla kurser jag måste?", a.CoursesLeft()),
        ("am I missing any required courses", a.CoursesLeft()),
        ("which sessions am I registered for?", a.MyCourses()),
        ("vilka utbildningar erbjuds", a.Courses()),
        ("what assessments have I done so far", a.Assessments()),
        ("how do I reach my studierektor", a.FaqTopic(entry="contact-studierektor")),
        ("info om stas", a.ShowCourse(course_id=3)),
        ("my swedish is not great, english?", a.English()),
        ("vad snällt, tack!", a.Thanks()),
        # fresh wordings of the families (not the development sets' sentences)
        ("jag vill inte ha kvar min plats på stas", a.WithdrawFrom(course_id=3)),
        ("ångra bokningen", a.WithdrawFrom()),
        ("I'd like to give up my seat on StAS", a.WithdrawFrom(course_id=3)),
        ("står jag på väntelistan?", a.MyCourses()),
        ("har jag nagra platser bokade", a.MyCourses()),
        ("what am I enrolled on at the moment", a.MyCourses()),
        ("vilka kurser kan jag välja mellan", a.Courses()),
        ("synka kurserna med min jobbkalender", a.Calendar()),
        ("blir det någon smärtdag i vår", a.Sessions(course_id=5)),
        ("is a StAS course coming up soon", a.Sessions(course_id=3)),
        ("details of the StAS schedule", a.ShowCourse(course_id=3)),
        ("beskriv onlinekursen", a.ShowCourse(course_id=2)),
        ("hur får jag tag på koordinatorn", a.FaqTopic(entry="contact-coordinator")),
        ("vad hjälper boten till med", a.Help()),
        ("tack för det snabba svaret", a.Thanks()),
        ("vi hörs, ha en fin helg", a.Thanks()),
        ("ok cool, see ya", a.Thanks()),
        ("I don't read Swedish very well", a.English()),
        ("kan du inte svara på engelska?", a.English()),
        ("svara inte på engelska", a.Swedish()),
        ("byt tillbaka till svenska igen", a.Swedish()),
        ("jag föredrar engelska hädanefter", a.English()),
        # nlu6: compounds, plurals, contact details, greetings to the bot, "more about"
        ("visa kursförteckningen", a.Courses()),
        ("the list of courses please", a.Courses()),
        ("my DOPS please", a.Assessments()),
        ("how many mini-CEXs do I have left", a.Assessments()),
        ("what are my upcoming assessments", a.Assessments()),
        ("handledarens telefonnummer", a.FaqTopic(entry="contact-supervisor")),
        ("main supervisor's email address?", a.FaqTopic(entry="contact-main-supervisor")),
        ("koordinatorns epost", a.FaqTopic(entry="contact-coordinator")),
        ("hey bot", a.Help()),
        ("hej igen du", a.Help()),
        ("hejsan, vad kan du?", a.Help()),
        ("jag vill veta mer om smärtdagen", a.ShowCourse(course_id=5)),
        ("tell me a bit more about StAS", a.ShowCourse(course_id=3)),
        ("visa kursen försäkringsmedicin", a.ShowCourse(course_id=1)),
        # nlu7: being enrolled, browsing, the calendar before the bookings, language trouble,
        # stretched thanks and closings, typos of words the FAQ also has
        ("kan jag bli bokad på stas", a.EnrolIn(course_id=3)),
        ("can I get registered for StAS", a.EnrolIn(course_id=3)),
        ("let me browse the courses", a.Courses()),
        ("add my bookings to outlook", a.Calendar()),
        ("synka mina anmälningar med kalendern", a.Calendar()),
        ("svenska är svårt för mig", a.English()),
        ("I'm still learning Swedish", a.English()),
        ("kan vi köra det här på engelska", a.English()),
        ("svenska är bättre för mig", a.Swedish()),
        ("tackkk!", a.Thanks()),
        ("thaaanks", a.Thanks()),
        ("great, that's all I needed", a.Thanks()),
        ("det var allt, tack", a.Thanks()),
        ("who is my studierektr", a.FaqTopic(entry="contact-studierektor")),
        ("how do I contact my main supervisr", a.FaqTopic(entry="contact-main-supervisor")),
        # nlu8: settings of the language, how the bot works, an overview of the courses, what
        # is still left, being booked, medsittningar, whom to reach, compounds asking when
        ("sätt språket till engelska", a.English()),
        ("välj engelska som språk", a.English()),
        ("change the bot language to swedish", a.Swedish()),
        ("hur fungerar den här appen", a.Help()),
        ("what are the options", a.Help()),
        ("vad kan man göra här", a.Help()),
        ("course overview", a.Courses()),
        ("ge mig en översikt över kurserna", a.Courses()),
        ("vilka kurser måste jag fortfarande gå", a.CoursesLeft()),
        ("vad är jag inbokad på just nu", a.MyCourses()),
        ("list my courses", a.MyCourses()),
        ("när är min nästa medsittning", a.Assessments()),
        ("who should I reach out to", a.FaqTopic(entry="contact-all")),
        ("vem hör jag av mig till", a.FaqTopic(entry="contact-all")),
        ("I need to speak to my supervisor", a.FaqTopic(entry="contact-supervisor")),
        ("stasdatum", a.Sessions(course_id=3)),
        ("när drar stas igång", a.Sessions(course_id=3)),
        ("I'd like to cancel my booking", a.WithdrawFrom()),
    ],
)  # fmt: skip
def test_paraphrases_and_course_forms_are_understood(text: str, action: a.Action) -> None:
    assert interpret(text) == u.Act(action)


@pytest.mark.parametrize(
    "text",
    [
        "hur bokar man en dops",
        "can I do StAS before BT starts?",
        "do I need to attend every course",
        "vad händer om jag blir sjukskriven under bt",
        "what is StAS?",
        "vem utser huvudhandledaren i vgr?",
        "en kort sammanfattning om psykiatri tack",  # a closing "tack" is "please"
        "varför ges inte AT längre",
        "när infördes BT?",
        "when did BT start",
        "when will BT start for Swedish graduates",  # "start" is no typo of a name ("smart")
        "hur många bedömningar måste man göra",
        "which HSLF-FS number is the BT regulation?",
        # nlu8: BT itself is no course
        "kan man göra bt mer än en gång",
        "när börjar man BT",
        "when are Swedish-trained doctors starting BT?",
    ],
)
def test_rule_questions_stay_with_the_faq(text: str) -> None:
    assert interpret(text) is None


def test_a_hint_without_a_course_is_no_request() -> None:
    assert interpret("finns det plats i Gävle") is None, "no course named: the FAQ's"
    assert isinstance(interpret("anmäl mig till kursen i akut ortopedi"), u.NoCourse), (
        "a word of a course's name (StAS: akuta) is no mention of it inside another name"
    )


def test_staff_are_understood_for_their_own_role() -> None:
    supervisor = frozenset({Role.supervisor})
    guide = u.Act(a.FaqTopic(entry=u.SUPERVISOR_GUIDE))
    assert interpret("vad förväntas av mig som handledare", supervisor) == guide
    assert interpret("ny som huvudhandledare, var börjar jag?", supervisor) == guide
    assert interpret("any tips for a new supervisor", supervisor) == guide
    assert interpret("lista läkarna jag handleder", supervisor) == u.Act(a.MyTrainees())
    assert interpret("när går stas? min bt-läkare vill gå dit", supervisor) == u.Act(
        a.Sessions(course_id=3)
    ), "a supervisor does not enrol: the sentence asks for the dates"
    coordinator = frozenset({Role.coordinator})
    assert interpret("vilka frågor har boten missat att svara på", coordinator) == u.Act(
        a.Reports()
    )
    assert interpret("vilka frågor har boten missat att svara på") is None, "a doctor's: the FAQ"


SUPERVISOR = frozenset({Role.supervisor})


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("visa mina doktorer", a.MyTrainees()),
        ("list my residents", a.MyTrainees()),
        ("vilka bt-läkare handleder jag", a.MyTrainees()),
        ("jag ska handleda en bt-läkare för första gången, vad förväntas av mig",
         a.FaqTopic(entry=u.SUPERVISOR_GUIDE)),
        ("I've been given a trainee to supervise, where do I start?",
         a.FaqTopic(entry=u.SUPERVISOR_GUIDE)),
        ("what am I supposed to do when supervising a BT doctor",
         a.FaqTopic(entry=u.SUPERVISOR_GUIDE)),
    ],
)  # fmt: skip
def test_a_supervisors_doctors_and_what_supervising_asks(text: str, action: a.Action) -> None:
    assert interpret(text, SUPERVISOR) == u.Act(action)


def test_who_may_supervise_is_a_rule() -> None:
    assert interpret("kan en st-läkare handleda en bt-läkare?", SUPERVISOR) is None


def test_the_course_list_of_a_region_and_a_typo_the_faq_would_repair() -> None:
    studierektor = frozenset({Role.studierektor})
    assert interpret("vilka kurser ger regionen", studierektor) == u.Act(a.Courses())
    found = u.interpret(
        "I'd like to regster for StAS", roles=DOCTOR, language=Language.en, today=TODAY,
        courses=COURSES, knows=lambda word: True, spelled=knows,
    )  # fmt: skip
    assert found == u.Act(a.EnrolIn(course_id=3)), "a typo the FAQ knows of is still a typo"


def test_a_kind_of_course_named_alone_is_every_course_of_that_kind() -> None:
    assert [course.id for course in spot_courses(("days",), COURSES)] == [4, 5]
    assert [course.id for course in spot_courses(("webbkurserna",), COURSES)] == [2]
    assert spot_courses(("kurser",), COURSES) == [], "a word nearly all share names none"


COORDINATOR = frozenset({Role.coordinator})


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("finns det obesvarade frågor", a.Reports()),
        ("har det kommit in några nya frågor?", a.Reports()),
        ("any pending questions?", a.Reports()),
        ("questions nobody has answered yet", a.Reports()),
        ("frågor som väntar på svar", a.Reports()),
        ("visa öppna frågor", a.Reports()),
        ("show the open questions", a.Reports()),
        ("visa de vidarebefordrade frågorna", a.Reports()),
        ("gör ett massutskick", a.Broadcast()),
        ("jag vill mejla alla BT-läkare", a.Broadcast()),
        ("send a mass email to the trainees", a.Broadcast()),
        ("skicka ett gruppmeddelande", a.Broadcast()),
        ("message all doctors", a.Broadcast()),
        ("finns det frågor jag behöver svara på", a.Reports()),
        ("which questions still need an answer", a.Reports()),
        ("notify the whole cohort about the new date", a.Broadcast()),
        ("skicka en påminnelse till alla handledare", a.Broadcast()),
        ("skicka mig listan på alla kurser", a.Courses()),
    ],
)
def test_a_coordinators_waiting_questions_and_messages_to_all(text: str, action: a.Action) -> None:
    assert interpret(text, COORDINATOR) == u.Act(action)


def test_open_is_filler_for_a_keyword_unless_a_desk_request_says_more() -> None:
    assert interpret("show the open questions") == u.Act(a.Ask()), "a doctor's: ask a question"
    assert interpret("öppna kalendern", COORDINATOR) == u.Act(a.Calendar())


TEACHING = Course(
    id=6,
    code="k-sched",
    title_sv="Schemalagd undervisning",
    title_en="Scheduled teaching",
    kind=CourseKind.schemalagd_undervisning,
)
ELSEWHERE = Course(id=7, code="x-smart", title_sv='Webbutbildning "Antibiotika SMART"',
                   title_en='Web course "Antibiotika SMART"', kind=CourseKind.webbkurs)  # fmt: skip


def test_a_course_name_holding_a_request_word_is_the_course() -> None:
    courses = [*COURSES, TEACHING]
    read = u.interpret(
        "visa schemalagd undervisning", roles=DOCTOR, language=Language.sv, today=TODAY,
        courses=courses, knows=knows,
    )  # fmt: skip
    assert read == u.Act(a.ShowCourse(course_id=6)), "'schemalagd' is no 'schema' here"
    read = u.interpret(
        "when is the next scheduled teaching", roles=DOCTOR, language=Language.en, today=TODAY,
        courses=courses, knows=knows,
    )  # fmt: skip
    assert read == u.Act(a.Sessions(course_id=6))


def test_the_course_named_in_full_is_meant_unless_several_are() -> None:
    supervisor = frozenset({Role.supervisor})
    assert interpret("boka in mig på försäkringsmedicin", supervisor) == u.Act(
        a.ShowCourse(course_id=1)
    ), "'Försäkringsmedicin' in full, not 'Klinisk försäkringsmedicin' that holds it"
    both = interpret("visa båda försäkringsmedicinkurserna", supervisor)
    assert isinstance(both, u.Choose)
    assert {course.id for course, _ in both.actions} == {1, 2}


@pytest.mark.parametrize(
    "text",
    [
        "info om Antibiotika SMART",
        "when is the next antibiotika smart",
        "berätta mer om antibiotika smart",
    ],
)
def test_a_course_only_other_regions_give_is_no_course_here(text: str) -> None:
    def known(word: str) -> bool:  # the FAQ knows these words: they are no typos
        return knows(word) or word in {"antibiotika", "smart"}

    found = u.interpret(
        text, roles=DOCTOR, language=Language.sv, today=TODAY, courses=COURSES, knows=known,
        catalogue=[*COURSES, ELSEWHERE],
    )  # fmt: skip
    assert isinstance(found, u.NoCourse), "'smart' of 'Smärta' here names only part of it"
    assert all(isinstance(action, type(found.closest[0][1])) for _, action in found.closest)
    without_smarta = [course for course in COURSES if course.id != 5]
    alone = u.interpret(
        text, roles=DOCTOR, language=Language.sv, today=TODAY, courses=without_smarta, knows=known
    )
    assert alone is None, "without the catalogue: a question for the FAQ"


@pytest.mark.parametrize(
    ("text", "course_id"),
    [
        ("vilka kommer på stas", 3),
        ("vilka deltar i smärta och palliation", 5),
        ("who's going to the pain day", 5),
        ("vilka ska på stas", 3),
    ],
)
def test_who_takes_part_is_a_coordinators_participants(text: str, course_id: int) -> None:
    assert interpret(text, COORDINATOR) == u.Act(a.Participants(course_id=course_id))


def test_who_takes_part_needs_a_course_and_is_no_date_or_assessor() -> None:
    assert interpret("vilka deltar i kollegiet", COORDINATOR) is None, "no course: the FAQ's"
    assert interpret("vilka datum går stas", COORDINATOR) == u.Act(a.Sessions(course_id=3))
    assert interpret("vem kommer att bedöma läkarna", COORDINATOR) is None


def test_any_one_of_a_kind_and_the_one_course_there_is() -> None:
    found = interpret("boka mig på en temadag")
    assert isinstance(found, u.Choose)
    assert {course.id for course, _ in found.actions} == {4, 5}
    only = u.interpret(
        "anmäl mig till kursen", roles=DOCTOR, language=Language.sv, today=TODAY,
        courses=[TEACHING], knows=knows,
    )  # fmt: skip
    assert only == u.Act(a.EnrolIn(course_id=6)), "the region's one course is the course"
    assert isinstance(interpret("anmäl mig till kursen"), u.Act), "several: the catalogue"
