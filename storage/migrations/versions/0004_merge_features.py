"""Join the feature branches (organisations, meetings) into one head for the next migration.

Revision ID: 0004_merge_features
Revises: 0002_organisations, 0003_meetings
"""

revision = "0004_merge_features"
down_revision = ("0002_organisations", "0003_meetings")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: the two branches touch different tables."""


def downgrade() -> None:
    """Nothing to change."""
