"""Course rows for tests, created directly so tests state exactly what they rely on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from btassist.courses.models import Course, CourseKind, CourseRegion, CourseSession
from btassist.db.engine import Database


async def add_course(
    database: Database,
    code: str,
    title_sv: str,
    *,
    title_en: str | None = None,
    regions: dict[str, bool] | None = None,
    kind: CourseKind = CourseKind.kurs,
    link: str | None = None,
) -> Course:
    """A course offered in `regions` (code → mandatory)."""
    async with database.session() as session:
        course = Course(
            code=code,
            title_sv=title_sv,
            title_en=title_en or title_sv,
            kind=kind,
            link=link,
            description_sv=f"Beskrivning av {title_sv}.",
            description_en=f"About {title_sv}.",
        )
        session.add(course)
        await session.flush()
        assert course.id is not None
        for region, mandatory in (regions or {"halland": True}).items():
            session.add(CourseRegion(course_id=course.id, region_code=region, mandatory=mandatory))
    return course


async def add_session(
    database: Database,
    course: Course,
    *,
    key: str,
    region: str = "halland",
    starts: datetime | None = None,
    hours: float = 7,
    capacity: int | None = 20,
    deadline: datetime | None = None,
    location: str = "Hallands sjukhus Halmstad, sal 3",
    meeting_url: str | None = None,
) -> CourseSession:
    """A scheduled session (by default two weeks from now, 09:00 local ≈ 08:00 UTC)."""
    starts = starts or (datetime.now(UTC) + timedelta(days=14)).replace(
        hour=8, minute=0, second=0, microsecond=0
    )
    assert course.id is not None
    async with database.session() as session:
        row = CourseSession(
            course_id=course.id,
            key=key,
            region_code=region,
            starts_at=starts,
            ends_at=starts + timedelta(hours=hours),
            location=location,
            meeting_url=meeting_url,
            capacity=capacity,
            enrolment_deadline=deadline,
        )
        session.add(row)
    return row
