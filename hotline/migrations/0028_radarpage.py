"""The radar's stored default window (`radar_snapshot`): the page and the API answer from it
instead of computing a 24-hour window per view (issue #20 part 6; 18–45 s on a surge day)."""

import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0027_volumes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RadarSnapshot',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=16)),
                ('window_from', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('window_to', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('seconds', fields.FloatField(default=0)),
                ('tickets', fields.IntField(default=0)),
                ('clusters', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('runs', fields.IntField(default=0)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('claimed_by', fields.CharField(default='', max_length=64)),
            ],
            options={'table': 'radar_snapshot', 'app': 'models', 'pk_attr': 'name', 'table_description': "The radar's default window as the background worker last computed it (issue #20)."},
            bases=['Model'],
        ),
    ]
