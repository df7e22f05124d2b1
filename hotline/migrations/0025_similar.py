"""Similar and repeated complaints (issue #20 part 3): the 疑似重复 holds, and an index so the
open tickets of one street are found without reading a month of tickets."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0024_scale')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SimilarHold',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket_id', fields.IntField(unique=True)),
                ('candidates', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('released_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('released_by', fields.CharField(default='', max_length=64)),
            ],
            options={'table': 'similar_hold', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A new ticket held as a likely repeat (疑似重复): not dispatched until an operator merges'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['street', 'created_at']),
        ),
    ]
