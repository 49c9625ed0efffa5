"""conversation state replaces the FAQ's pending replies; outbox rows name their notice kind;
conversation references remember the install greeting

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 06:36:27.309579
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPLY_WAIT = timedelta(hours=24)  # a reply started before the upgrade stays open this long


def upgrade() -> None:
    state = op.create_table(
        "conversation_state",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("flow", sa.String(length=40), nullable=False),
        sa.Column("step", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_conversation_state_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_conversation_state")),
    )
    # A coordinator who clicked "Svara" before the upgrade can still answer after it.
    connection = op.get_bind()
    pending = connection.execute(
        sa.text("SELECT coordinator_id, question_id FROM faq_pending_reply")
    ).all()
    now = datetime.now(UTC)
    naive = connection.dialect.name == "sqlite"  # SQLite stores UTC without an offset
    stamp = now.replace(tzinfo=None) if naive else now
    expires = (now + REPLY_WAIT).replace(tzinfo=None) if naive else now + REPLY_WAIT
    if pending:
        op.bulk_insert(
            state,
            [
                {
                    "person_id": coordinator_id,
                    "flow": "faq_reply",
                    "step": "answer",
                    "payload": {"question_id": question_id},
                    "expires_at": expires,
                    "updated_at": stamp,
                }
                for coordinator_id, question_id in pending
            ],
        )
    with op.batch_alter_table("faq_pending_reply", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_pending_reply_question_id"))
    op.drop_table("faq_pending_reply")

    with op.batch_alter_table("conversation_ref", schema=None) as batch_op:
        batch_op.add_column(sa.Column("welcomed_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.alter_column(
            "template", new_column_name="kind", existing_type=sa.String(length=60)
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.alter_column(
            "kind", new_column_name="template", existing_type=sa.String(length=60)
        )
    with op.batch_alter_table("conversation_ref", schema=None) as batch_op:
        batch_op.drop_column("welcomed_at")
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
    op.drop_table("conversation_state")
