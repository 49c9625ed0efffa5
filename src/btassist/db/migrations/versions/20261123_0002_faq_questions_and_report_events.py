"""FAQ: questions forwarded to coordinators, pending coordinator replies, anonymous report events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:25:40.397782
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "faq_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "unanswered",
                "out_of_scope",
                "helpful",
                "unhelpful",
                name="faqeventkind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("question", sa.String(length=500), nullable=True),
        sa.Column("entry_id", sa.String(length=80), nullable=True),
        sa.Column("region_code", sa.String(length=20), nullable=True),
        sa.Column(
            "language",
            sa.Enum("sv", "en", name="language", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_event")),
    )
    with op.batch_alter_table("faq_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_faq_event_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_faq_event_kind"), ["kind"], unique=False)

    op.create_table(
        "faq_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asker_id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=20), nullable=False),
        sa.Column(
            "language",
            sa.Enum("sv", "en", name="language", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "answered", name="questionstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["answered_by_id"],
            ["person.id"],
            name=op.f("fk_faq_question_answered_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["asker_id"],
            ["person.id"],
            name=op.f("fk_faq_question_asker_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["region.code"], name=op.f("fk_faq_question_region_code_region")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_question")),
    )
    with op.batch_alter_table("faq_question", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_faq_question_asker_id"), ["asker_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_faq_question_region_code"), ["region_code"], unique=False
        )

    op.create_table(
        "faq_pending_reply",
        sa.Column("coordinator_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["coordinator_id"],
            ["person.id"],
            name=op.f("fk_faq_pending_reply_coordinator_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["faq_question.id"],
            name=op.f("fk_faq_pending_reply_question_id_faq_question"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("coordinator_id", name=op.f("pk_faq_pending_reply")),
    )
    with op.batch_alter_table("faq_pending_reply", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_faq_pending_reply_question_id"), ["question_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("faq_pending_reply", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_pending_reply_question_id"))

    op.drop_table("faq_pending_reply")
    with op.batch_alter_table("faq_question", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_question_region_code"))
        batch_op.drop_index(batch_op.f("ix_faq_question_asker_id"))

    op.drop_table("faq_question")
    with op.batch_alter_table("faq_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_event_kind"))
        batch_op.drop_index(batch_op.f("ix_faq_event_entry_id"))

    op.drop_table("faq_event")
