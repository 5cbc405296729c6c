"""Hardening: organisation names compared with look-alikes folded; no length limit where no rule sets one.

``organisations.name_key`` is recomputed with :func:`storage.lookalikes.name_key` (an older row
whose new key would duplicate an earlier one's keeps its old key, so nothing is lost and the
pair stays visible to secretaries); ``deliveries.error`` (a platform's error text) and
``audit.subject`` become TEXT.

Revision ID: 0005_hardening
Revises: 0004_merge_features
"""

import sqlalchemy as sa
from alembic import op

from storage.lookalikes import name_key

revision = "0005_hardening"
down_revision = "0004_merge_features"
branch_labels = None
depends_on = None

_organisations = sa.table(
    "organisations",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("name_key", sa.String),
    sa.column("country", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("error", type_=sa.Text(), existing_type=sa.String(500), existing_nullable=False)
    with op.batch_alter_table("audit") as batch:
        batch.alter_column("subject", type_=sa.Text(), existing_type=sa.String(255), existing_nullable=False)
    _recompute_name_keys()


def _recompute_name_keys() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(_organisations).order_by(_organisations.c.id)).all()
    taken = {(row.name_key, row.country) for row in rows}
    for row in rows:
        new = name_key(row.name)
        if new == row.name_key or (new, row.country) in taken:
            continue
        taken.discard((row.name_key, row.country))
        taken.add((new, row.country))
        connection.execute(
            sa.update(_organisations).where(_organisations.c.id == row.id).values(name_key=new)
        )


def downgrade() -> None:
    """The recomputed keys stay (they are valid keys); the texts are cut back to the old sizes."""
    connection = op.get_bind()
    connection.execute(sa.text("UPDATE deliveries SET error = substr(error, 1, 500) WHERE length(error) > 500"))
    connection.execute(sa.text("UPDATE audit SET subject = substr(subject, 1, 255) WHERE length(subject) > 255"))
    with op.batch_alter_table("audit") as batch:
        batch.alter_column("subject", type_=sa.String(255), existing_type=sa.Text(), existing_nullable=False)
    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("error", type_=sa.String(500), existing_type=sa.Text(), existing_nullable=False)
