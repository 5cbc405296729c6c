"""Pledges, reporting rounds and the reports given in them.

Revision ID: 0006_pledges
Revises: 0004_merge_features
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_pledges"
down_revision = "0005_hardening"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pledges",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "organisation_id", sa.Integer, sa.ForeignKey("organisations.id", ondelete="CASCADE"),
            nullable=False, index=True,
        ),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("objectives", sa.JSON, nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("url", sa.String(500)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(255)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("withdrawn_at", TS),
        sa.UniqueConstraint("organisation_id", "number"),
    )
    op.create_table(
        "pledge_rounds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("period", sa.String(7), nullable=False, unique=True),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("closes_at", TS, nullable=False),
        sa.Column("opened_by", sa.String(255)),
        sa.Column("closed", sa.Boolean, nullable=False),
    )
    op.create_table(
        "pledge_reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("round_id", sa.Integer, sa.ForeignKey("pledge_rounds.id"), nullable=False, index=True),
        sa.Column(
            "pledge_id", sa.Integer, sa.ForeignKey("pledges.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("reported_by", sa.String(255)),
        sa.Column("reported_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("pledge_reports", "pledge_rounds", "pledges"):
        op.drop_table(table)
