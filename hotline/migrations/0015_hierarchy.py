from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0014_tickets_history_and_calls')]

    initial = False

    operations = [
        ops.AddField(
            model_name='TicketUnit',
            name='answered_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='TicketUnit',
            name='done',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='TicketUnit',
            name='due_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='TicketUnit',
            name='limit',
            field=fields.CharField(default='', db_default='', max_length=16),
        ),
        ops.AddField(
            model_name='TicketUnit',
            name='parent_unit_id',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='TicketUnit',
            name='state',
            field=fields.CharField(default='', db_default='', max_length=12),
        ),
        ops.AddField(
            model_name='TicketUnit',
            name='text',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddIndex(
            model_name='TicketUnit',
            index=Index(fields=['unit_id', 'role', 'created_at']),
        ),
        ops.AddIndex(
            model_name='TicketUnit',
            index=Index(fields=['role', 'created_at']),
        ),
    ]
