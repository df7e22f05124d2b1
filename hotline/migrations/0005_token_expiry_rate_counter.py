from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_idempotency_key')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RateCounter',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=160)),
                ('hits', fields.IntField(default=0)),
                ('expires', fields.BigIntField(db_index=True)),
            ],
            options={'table': 'rate_counter', 'app': 'models', 'pk_attr': 'key', 'table_description': 'Hits of one rate-limit key in one fixed time window, shared by every web worker.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='ApiToken',
            name='expires_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ApiToken',
            name='last_used_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
