"""an offer knows its message, so its deadline can run from when Twilio accepted it

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("message_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_assignments_message_id_messages"), "messages", ["message_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.drop_constraint(batch.f("fk_assignments_message_id_messages"), type_="foreignkey")
        batch.drop_column("message_id")
