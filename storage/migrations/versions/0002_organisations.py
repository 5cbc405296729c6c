"""Organisations, their memberships of the Working Tables, and the audit log.

Revision ID: 0002_organisations
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_organisations"
down_revision = "0001_core"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_key", sa.String(200), nullable=False, index=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("stakeholder_type", sa.String(32), nullable=False),
        sa.Column("contact_name", sa.String(120)),
        sa.Column("contact_email", sa.String(254)),
        sa.Column("contact_user", sa.String(255), index=True),
        sa.Column("language", sa.String(8)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("erased_at", TS),
        sa.UniqueConstraint("name_key", "country"),
    )
    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "organisation_id",
            sa.Integer,
            sa.ForeignKey("organisations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("table_code", sa.String(8), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("requested_by", sa.String(255)),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("decided_by", sa.String(255)),
        sa.Column("decided_at", TS),
        sa.Column("reason", sa.String(500)),
        sa.UniqueConstraint("organisation_id", "table_code"),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TS, nullable=False, index=True),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("audit", "memberships", "organisations"):
        op.drop_table(table)
