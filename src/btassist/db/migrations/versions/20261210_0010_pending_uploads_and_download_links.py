"""pending uploads and one-time download links (the coordinator's desk)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_upload",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_pending_upload_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_upload")),
    )
    op.create_index(
        op.f("ix_pending_upload_expires_at"), "pending_upload", ["expires_at"], unique=False
    )
    op.create_index(
        op.f("ix_pending_upload_person_id"), "pending_upload", ["person_id"], unique=False
    )
    op.create_table(
        "download_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("selector", sa.String(length=16), nullable=False),
        sa.Column("verifier_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_download_link_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_download_link")),
        sa.UniqueConstraint("selector", name=op.f("uq_download_link_selector")),
    )
    op.create_index(
        op.f("ix_download_link_expires_at"), "download_link", ["expires_at"], unique=False
    )
    op.create_index(
        op.f("ix_download_link_person_id"), "download_link", ["person_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_download_link_person_id"), table_name="download_link")
    op.drop_index(op.f("ix_download_link_expires_at"), table_name="download_link")
    op.drop_table("download_link")
    op.drop_index(op.f("ix_pending_upload_person_id"), table_name="pending_upload")
    op.drop_index(op.f("ix_pending_upload_expires_at"), table_name="pending_upload")
    op.drop_table("pending_upload")
