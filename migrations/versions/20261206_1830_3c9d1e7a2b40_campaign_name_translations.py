"""campaign name translations

Revision ID: 3c9d1e7a2b40
Revises: aecdbd476d26
Create Date: 2026-12-06 18:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c9d1e7a2b40'
down_revision = 'aecdbd476d26'
branch_labels = None
depends_on = None


def upgrade():
    # Existing campaigns keep their one name for every language.
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_translations', sa.JSON(), server_default='{}', nullable=False))


def downgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('name_translations')
