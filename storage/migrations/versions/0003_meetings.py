"""Meetings, subscriptions, and the outbox of notices and deliveries.

Revision ID: 0003_meetings
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_meetings"
down_revision = "0001_core"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("table_code", sa.String(8), nullable=False, index=True),
        sa.Column("title", sa.String(200)),
        sa.Column("url", sa.String(500)),
        sa.Column("starts_at", TS, nullable=False, index=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("offsets", sa.JSON, nullable=False),
        sa.Column("quarterly", sa.Boolean, nullable=False),
        sa.Column("series_id", sa.Integer),
        sa.Column("occurrence", sa.Integer, nullable=False),
        sa.Column("anchor", sa.String(19)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("series_id", "occurrence"),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(255), nullable=False),
        sa.Column("table_code", sa.String(8), nullable=False, index=True),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("platform", "chat_id", "table_code"),
    )
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("due_at", TS),
        sa.Column("expires_at", TS),
        sa.Column("meeting_id", sa.Integer, sa.ForeignKey("meetings.id"), index=True),
        sa.Column("table_code", sa.String(8)),
        sa.Column("owner", sa.String(255)),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("reported", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_notices_status_due", "notices", ["status", "due_at"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("notice_id", sa.Integer, sa.ForeignKey("notices.id"), nullable=False, index=True),
        sa.Column("recipient", sa.String(300), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(255)),
        sa.Column("user_id", sa.String(255)),
        sa.Column("language", sa.String(8)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("claimed_at", TS),
        sa.Column("sent_at", TS),
        sa.Column("message_id", sa.String(64)),
        sa.Column("error", sa.String(500), nullable=False),
        sa.UniqueConstraint("notice_id", "recipient"),
    )
    op.create_index("ix_deliveries_status_next", "deliveries", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_status_next", "deliveries")
    op.drop_table("deliveries")
    op.drop_index("ix_notices_status_due", "notices")
    for table in ("notices", "subscriptions", "meetings"):
        op.drop_table(table)
