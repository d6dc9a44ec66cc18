"""repair cases a console reassignment left "accepted" with no holder

Before the case states were declared once (storage.casestate), reassigning an accepted case
cleared its holder but kept status "accepted". Such a case is waiting for the member it was
handed to: it is "offered". Only rows in that impossible state change; nothing is removed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE cases SET status = 'offered', accepted_at = NULL "
        "WHERE status = 'accepted' AND member_id IS NULL"
    )


def downgrade() -> None:
    pass  # the old state was a bug; there is nothing to go back to
