"""Roster (regions, people, roles, BT programmes, placements) and conversation references

Revision ID: 0001
Revises:
Create Date: 2026-11-23 15:10:35.129652
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


REGIONS = [
    {"code": "vgr", "name_sv": "Västra Götalandsregionen", "name_en": "Region Västra Götaland"},
    {"code": "kronoberg", "name_sv": "Region Kronoberg", "name_en": "Region Kronoberg"},
    {"code": "gavleborg", "name_sv": "Region Gävleborg", "name_en": "Region Gävleborg"},
    {"code": "orebro", "name_sv": "Region Örebro län", "name_en": "Region Örebro County"},
    {"code": "jonkoping", "name_sv": "Region Jönköpings län", "name_en": "Region Jönköping County"},
    {"code": "halland", "name_sv": "Region Halland", "name_en": "Region Halland"},
]


def upgrade() -> None:
    op.create_table(
        "region",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name_sv", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_region")),
    )
    region = sa.table(
        "region",
        sa.column("code", sa.String),
        sa.column("name_sv", sa.String),
        sa.column("name_en", sa.String),
    )
    op.bulk_insert(region, REGIONS)
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("aad_object_id", sa.String(length=64), nullable=True),
        sa.Column(
            "language",
            sa.Enum("sv", "en", name="language", native_enum=False, length=20),
            nullable=True,
        ),
        sa.Column("region_code", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_code"], ["region.code"], name=op.f("fk_person_region_code_region")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_aad_object_id"), ["aad_object_id"], unique=True)
        batch_op.create_index(batch_op.f("ix_person_email"), ["email"], unique=True)
        batch_op.create_index(batch_op.f("ix_person_region_code"), ["region_code"], unique=False)

    op.create_table(
        "bt_programme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doctor_id", sa.Integer(), nullable=False),
        sa.Column(
            "bt_type",
            sa.Enum("block", "integrated", name="bttype", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("planned_end", sa.Date(), nullable=False),
        sa.Column("main_supervisor_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["doctor_id"],
            ["person.id"],
            name=op.f("fk_bt_programme_doctor_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["main_supervisor_id"],
            ["person.id"],
            name=op.f("fk_bt_programme_main_supervisor_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bt_programme")),
        sa.UniqueConstraint("doctor_id", name=op.f("uq_bt_programme_doctor_id")),
    )
    with op.batch_alter_table("bt_programme", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bt_programme_main_supervisor_id"), ["main_supervisor_id"], unique=False
        )

    op.create_table(
        "conversation_ref",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=50), nullable=False),
        sa.Column("conversation_id", sa.String(length=500), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_conversation_ref_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_ref")),
        sa.UniqueConstraint(
            "person_id",
            "channel_id",
            "conversation_id",
            name=op.f("uq_conversation_ref_person_id_channel_id_conversation_id"),
        ),
    )
    with op.batch_alter_table("conversation_ref", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_ref_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_conversation_ref_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "person_role",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "doctor",
                "supervisor",
                "coordinator",
                "studierektor",
                name="role",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_person_role_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", "role", name=op.f("pk_person_role")),
    )
    op.create_table(
        "placement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doctor_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "akut",
                "primarvard",
                "psykiatri",
                "valfri",
                name="placementkind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["doctor_id"],
            ["person.id"],
            name=op.f("fk_placement_doctor_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"],
            ["person.id"],
            name=op.f("fk_placement_supervisor_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placement")),
        sa.UniqueConstraint(
            "doctor_id", "kind", "start", name=op.f("uq_placement_doctor_id_kind_start")
        ),
    )
    with op.batch_alter_table("placement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_placement_doctor_id"), ["doctor_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_placement_supervisor_id"), ["supervisor_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("placement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_placement_supervisor_id"))
        batch_op.drop_index(batch_op.f("ix_placement_doctor_id"))

    op.drop_table("placement")
    op.drop_table("person_role")
    with op.batch_alter_table("conversation_ref", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_ref_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_conversation_ref_person_id"))

    op.drop_table("conversation_ref")
    with op.batch_alter_table("bt_programme", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bt_programme_main_supervisor_id"))

    op.drop_table("bt_programme")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_region_code"))
        batch_op.drop_index(batch_op.f("ix_person_email"))
        batch_op.drop_index(batch_op.f("ix_person_aad_object_id"))

    op.drop_table("person")
    op.drop_table("region")
