from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_token_expiry_rate_counter')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Ticket',
            name='anonymised_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['anonymised_at', 'closed_at']),
        ),
    ]
