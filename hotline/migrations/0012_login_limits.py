from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0011_dispatch_confirmation')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LoginKnownAddress',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='known_addresses', on_delete=OnDelete.CASCADE)),
                ('address_digest', fields.CharField(max_length=64)),
                ('last_success_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'login_known_address', 'app': 'models', 'unique_together': (('user', 'address_digest'),), 'pk_attr': 'id', 'table_description': 'An address (HMAC digest) a user last signed in from successfully, and when.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='RateCounter',
            name='pending',
            field=fields.IntField(default=0, db_default=0),
        ),
    ]
