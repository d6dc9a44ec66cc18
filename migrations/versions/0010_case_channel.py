"""walk-in reports: a case's channel, and who heard the resident's spoken consent

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("channel", sa.String(16), nullable=False, server_default="sms"))
        batch.add_column(sa.Column("consent_by", sa.String(80), nullable=True))
    # Existing cases came in by text: the channel of their first inbound message, else their
    # contact's (a case whose messages were erased).
    op.execute(
        """
        UPDATE cases SET channel = COALESCE(
            (SELECT m.channel FROM messages m
              WHERE m.case_id = cases.id AND m.direction = 'in' AND m.channel IN ('sms', 'whatsapp')
              ORDER BY m.id LIMIT 1),
            (SELECT c.channel FROM contacts c WHERE c.id = cases.contact_id),
            'sms')
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("consent_by")
        batch.drop_column("channel")
