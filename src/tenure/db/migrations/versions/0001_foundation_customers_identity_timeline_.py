"""foundation: customers, identity, timeline, workspace

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 23:39:31.194718
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
import tenure.db.types

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('attribute_definitions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entity', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('choices', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', tenure.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attribute_definitions')),
    sa.UniqueConstraint('entity', 'key', name=op.f('uq_attribute_definitions_entity_key'))
    )
    op.create_table('tags',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tags')),
    sa.UniqueConstraint('name', name=op.f('uq_tags_name'))
    )
    op.create_table('users',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', tenure.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('workspace',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('created_at', tenure.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workspace'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('created_at', tenure.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', tenure.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', tenure.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('entity_type', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('changes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_log_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_log_entity', ['entity_type', 'entity_id'], unique=False)

    op.create_table('organizations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=True),
    sa.Column('owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('attributes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', tenure.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tenure.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_organizations_owner_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organizations'))
    )
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organizations_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_organizations_domain'), ['domain'], unique=False)
        batch_op.create_index(batch_op.f('ix_organizations_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_organizations_owner_id'), ['owner_id'], unique=False)

    op.create_table('organization_tags',
    sa.Column('organization_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tag_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_organization_tags_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_organization_tags_tag_id_tags'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organization_id', 'tag_id', name=op.f('pk_organization_tags'))
    )
    with op.batch_alter_table('organization_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organization_tags_tag_id'), ['tag_id'], unique=False)

    op.create_table('people',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('first_name', sa.String(length=200), nullable=False),
    sa.Column('last_name', sa.String(length=200), nullable=False),
    sa.Column('job_title', sa.String(length=200), nullable=True),
    sa.Column('organization_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('attributes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', tenure.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tenure.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_people_organization_id_organizations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_people_owner_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people'))
    )
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.create_index('ix_people_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_people_last_name_id', ['last_name', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_people_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_people_owner_id'), ['owner_id'], unique=False)

    op.create_table('consent_records',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=30), nullable=False),
    sa.Column('purpose', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('recorded_at', tenure.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_consent_records_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_consent_records_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_records'))
    )
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.create_index('ix_consent_records_person', ['person_id', 'channel', 'purpose', 'id'], unique=False)

    op.create_table('events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('occurred_at', tenure.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', tenure.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('type', sa.String(length=50), nullable=False),
    sa.Column('channel', sa.String(length=30), nullable=True),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('client_event_id', sa.String(length=200), nullable=True),
    sa.Column('amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_events_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_person_time', ['person_id', 'occurred_at', 'id'], unique=False)
        batch_op.create_index('ix_events_person_type_time', ['person_id', 'type', 'occurred_at', 'amount_minor'], unique=False)
        batch_op.create_index('uq_events_source_client_event_id', ['source', 'client_event_id'], unique=True, sqlite_where=sa.text('client_event_id IS NOT NULL'), postgresql_where=sa.text('client_event_id IS NOT NULL'))

    op.create_table('identities',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('namespace', sa.String(length=50), nullable=False),
    sa.Column('value', sa.String(length=320), nullable=False),
    sa.Column('original', sa.String(length=320), nullable=False),
    sa.Column('label', sa.String(length=50), nullable=True),
    sa.Column('is_primary', sa.Boolean(), nullable=False),
    sa.Column('created_at', tenure.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_identities_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identities'))
    )
    with op.batch_alter_table('identities', schema=None) as batch_op:
        batch_op.create_index('ix_identities_kind_value', ['kind', 'value'], unique=False)
        batch_op.create_index(batch_op.f('ix_identities_person_id'), ['person_id'], unique=False)
        batch_op.create_index('uq_identities_kind_namespace_value', ['kind', 'namespace', 'value'], unique=True, sqlite_where=sa.text("kind != 'phone'"), postgresql_where=sa.text("kind != 'phone'"))
        batch_op.create_index('uq_identities_one_primary', ['person_id', 'kind', 'namespace'], unique=True, sqlite_where=sa.text('is_primary'), postgresql_where=sa.text('is_primary'))

    op.create_table('notes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('organization_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('author_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', tenure.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(person_id IS NOT NULL) <> (organization_id IS NOT NULL)', name=op.f('ck_notes_one_parent')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_notes_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_notes_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_notes_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notes'))
    )
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notes_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notes_person_id'), ['person_id'], unique=False)

    op.create_table('person_tags',
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tag_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_person_tags_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_person_tags_tag_id_tags'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'tag_id', name=op.f('pk_person_tags'))
    )
    with op.batch_alter_table('person_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_tags_tag_id'), ['tag_id'], unique=False)

    op.create_table('tasks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('organization_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('assignee_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('due_at', tenure.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_at', tenure.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', tenure.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(person_id IS NOT NULL) <> (organization_id IS NOT NULL)', name=op.f('ck_tasks_one_parent')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_tasks_assignee_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_tasks_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_tasks_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_tasks_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tasks_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_person_id'), ['person_id'], unique=False)

    op.create_table('event_items',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sku', sa.String(length=100), nullable=True),
    sa.Column('category', sa.String(length=100), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_minor', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_items_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_items'))
    )
    with op.batch_alter_table('event_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_items_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_items_event_id'), ['event_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('event_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_items_event_id'))
        batch_op.drop_index(batch_op.f('ix_event_items_category'))

    op.drop_table('event_items')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tasks_person_id'))
        batch_op.drop_index(batch_op.f('ix_tasks_organization_id'))
        batch_op.drop_index(batch_op.f('ix_tasks_assignee_id'))

    op.drop_table('tasks')
    with op.batch_alter_table('person_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_tags_tag_id'))

    op.drop_table('person_tags')
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notes_person_id'))
        batch_op.drop_index(batch_op.f('ix_notes_organization_id'))

    op.drop_table('notes')
    with op.batch_alter_table('identities', schema=None) as batch_op:
        batch_op.drop_index('uq_identities_one_primary', sqlite_where=sa.text('is_primary'), postgresql_where=sa.text('is_primary'))
        batch_op.drop_index('uq_identities_kind_namespace_value', sqlite_where=sa.text("kind != 'phone'"), postgresql_where=sa.text("kind != 'phone'"))
        batch_op.drop_index(batch_op.f('ix_identities_person_id'))
        batch_op.drop_index('ix_identities_kind_value')

    op.drop_table('identities')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('uq_events_source_client_event_id', sqlite_where=sa.text('client_event_id IS NOT NULL'), postgresql_where=sa.text('client_event_id IS NOT NULL'))
        batch_op.drop_index('ix_events_person_type_time')
        batch_op.drop_index('ix_events_person_time')

    op.drop_table('events')
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_records_person')

    op.drop_table('consent_records')
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_people_owner_id'))
        batch_op.drop_index(batch_op.f('ix_people_organization_id'))
        batch_op.drop_index('ix_people_last_name_id')
        batch_op.drop_index('ix_people_created_at_id')

    op.drop_table('people')
    with op.batch_alter_table('organization_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organization_tags_tag_id'))

    op.drop_table('organization_tags')
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organizations_owner_id'))
        batch_op.drop_index(batch_op.f('ix_organizations_name'))
        batch_op.drop_index(batch_op.f('ix_organizations_domain'))
        batch_op.drop_index(batch_op.f('ix_organizations_created_at'))

    op.drop_table('organizations')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_entity')
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('workspace')
    op.drop_table('users')
    op.drop_table('tags')
    op.drop_table('attribute_definitions')
