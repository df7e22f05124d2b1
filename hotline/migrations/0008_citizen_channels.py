from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from enum import StrEnum
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class MailStatus(StrEnum):
    """The outbox status as it was when this migration was written (a frozen copy: a migration
    must not change meaning when the live code does)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Migration(migrations.Migration):
    dependencies = [('models', '0007_rate_rows')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Open311Token',
            fields=[
                ('token', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('ticket', fields.ForeignKeyField('models.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='open311_tokens', on_delete=OnDelete.CASCADE)),
                ('client', fields.CharField(default='', max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'open311_token', 'app': 'models', 'pk_attr': 'token', 'table_description': 'A token handed to an Open311 client at POST /requests, answered by GET /tokens/{token}.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxSms',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('dedupe_key', fields.CharField(unique=True, max_length=128)),
                ('phone', fields.CharField(max_length=32)),
                ('template', fields.CharField(max_length=32)),
                ('params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('body', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(default=MailStatus.PENDING, description='PENDING: pending\nSENT: sent\nFAILED: failed', enum_type=MailStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('gateway_ref', fields.CharField(null=True, max_length=128)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('ticket_number', fields.CharField(null=True, db_index=True, max_length=64)),
                ('reason', fields.CharField(max_length=32)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('claim_token', fields.CharField(null=True, max_length=36)),
            ],
            options={'table': 'outbox_sms', 'app': 'models', 'indexes': [Index(fields=['status', 'next_attempt_at'])], 'pk_attr': 'id', 'table_description': 'One text message waiting for (or done with) delivery through the SMS gateway.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Ticket',
            name='no_contact',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='sms_opt_out',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
