"""responses.first_submitted_at

Revision ID: 7f3e2a9c5d14
Revises: 3c9d1e7a2b40
Create Date: 2026-12-07 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7f3e2a9c5d14'
down_revision = '3c9d1e7a2b40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_submitted_at', sa.DateTime(timezone=True), nullable=True))
    # Responses submitted before: the first submission the audit log recorded, else the latest one known.
    op.execute(
        "UPDATE responses SET first_submitted_at = COALESCE("
        "(SELECT MIN(audit_events.created_at) FROM audit_events WHERE audit_events.action = 'response.submitted' "
        "AND audit_events.object_type = 'response' "
        "AND audit_events.object_id = CAST(responses.id AS VARCHAR(64))), responses.submitted_at) "
        "WHERE submitted_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_column('first_submitted_at')
