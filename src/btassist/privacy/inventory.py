"""Where the database holds data about a person: every column that points at one, and what an
export and an erasure do with it.

Export and erasure walk this map, so they cover every table in it; a test compares the map with
the schema (every foreign key to `person.id`), so a new table that names a person fails that test
until it is listed here with its rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, Table

from btassist.courses.models import EnrolmentStatus


class Erasure(StrEnum):
    """What erasing a person does to a row that names them."""

    delete = "delete"  # the row is about the person
    unlink = "unlink"  # the row is someone else's and only names the person: the name goes
    keep = "keep"  # a record the region must keep: course attendance


@dataclass(frozen=True)
class PersonColumn:
    """A column holding a person's id, and the rule for it."""

    table: str
    column: str
    erasure: Erasure
    own: tuple[str, ...] | None = None
    """For `unlink`: the fields of the row that are the person's own (exported); the rest of
    the row is someone else's. None: the whole row is the person's."""
    secret: tuple[str, ...] = ()
    """Fields left out of an export: hashes of secrets (useless to anyone, not worth showing) and
    files whose content is about other people."""
    kept: Callable[[Table], ColumnElement[bool]] | None = None
    """Rows an erasure keeps (course attendance); the others are deleted."""
    scrub: tuple[tuple[str, str], ...] = ()
    """For `unlink`: other fields of the row that name the person (a stored display name),
    and what they become."""


def _attended(table: Table) -> ColumnElement[bool]:
    return table.c.status == EnrolmentStatus.attended.value


PERSON = "person"
ERASED = "(raderad person)"
"""What a stored display name of an erased person becomes."""
PERSON_COLUMNS: tuple[PersonColumn, ...] = (
    PersonColumn(PERSON, "id", Erasure.delete),  # anonymised instead when something is kept
    PersonColumn("person_role", "person_id", Erasure.delete),
    PersonColumn("bt_programme", "doctor_id", Erasure.delete),
    PersonColumn("bt_programme", "main_supervisor_id", Erasure.unlink, own=("id",)),
    PersonColumn("placement", "doctor_id", Erasure.delete),
    PersonColumn("placement", "supervisor_id", Erasure.unlink, own=("id", "kind", "start", "end")),
    PersonColumn("enrolment", "doctor_id", Erasure.delete, kept=_attended),
    PersonColumn("course_completion", "doctor_id", Erasure.keep),
    PersonColumn("conversation_ref", "person_id", Erasure.delete),
    PersonColumn("conversation_state", "person_id", Erasure.delete),
    PersonColumn("feed_token", "person_id", Erasure.delete, secret=("verifier_hash",)),
    PersonColumn("faq_question", "asker_id", Erasure.delete),
    PersonColumn(
        "faq_question", "answered_by_id", Erasure.unlink, own=("id", "answer", "answered_at")
    ),
    PersonColumn("outbox_message", "person_id", Erasure.delete),
    PersonColumn("plan_item", "doctor_id", Erasure.delete),
    PersonColumn("plan_item", "due_edited_by", Erasure.unlink, own=("id", "due", "due_edited_at")),
    PersonColumn("plan_item", "done_by", Erasure.unlink, own=("id", "done_on", "done_recorded_at")),
    PersonColumn("reminder_pause", "person_id", Erasure.delete),
    # Reach and privacy (issues 16 and 13)
    PersonColumn("app_install", "person_id", Erasure.delete),
    PersonColumn("export_link", "person_id", Erasure.delete, secret=("token_hash",)),
    # The coordinator's desk: files they sent or were handed; the files themselves (other
    # people's rows) stay out of an export, and go with the person
    PersonColumn("pending_upload", "person_id", Erasure.delete, secret=("data",)),
    PersonColumn("download_link", "person_id", Erasure.delete, secret=("verifier_hash", "data")),
    # Broadcasts: a recipient's copy is theirs; the audit log keeps what was sent, not by whom
    PersonColumn("broadcast_recipient", "person_id", Erasure.delete),
    PersonColumn(
        "broadcast",
        "author_id",
        Erasure.unlink,
        own=("id", "regions", "text", "created_at", "queued_at"),
        scrub=(("author_label", ERASED),),
    ),
    PersonColumn(
        "broadcast_event",
        "actor_id",
        Erasure.unlink,
        own=("id", "broadcast_id", "action", "at"),
        scrub=(("actor_label", ERASED),),
    ),
)
"""Every column that holds a person's id; `person.id` first."""

PERSON_FIELDS_KEPT = ("id", "name", "email", "region_code", "active", "created_at", "updated_at")
"""What is left of the person row when a kept record (course attendance) needs to say whose it
is; the rest (Entra id, language) is cleared."""
