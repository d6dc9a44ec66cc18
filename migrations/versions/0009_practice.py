"""practice mode: a site's practice numbers, and cases reported from them marked

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 14:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("practice", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("practice", sa.Boolean(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("practice")
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("practice")
