"""users.session_generation

Revision ID: b5d2c8e1f047
Revises: 7f3e2a9c5d14
Create Date: 2026-12-07 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b5d2c8e1f047'
down_revision = '7f3e2a9c5d14'
branch_labels = None
depends_on = None


def upgrade():
    # 0 for every account: the sessions already open stay valid (their identity has no generation part)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
