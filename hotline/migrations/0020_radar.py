"""The hot-issue radar's alerts: one row per cluster that burst, so each alerts once (issue #20)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [('models', '0019_ticket_unit_by_ticket')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RadarAlert',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cluster_id', fields.CharField(unique=True, max_length=32)),
                ('title', fields.CharField(max_length=200)),
                ('place', fields.CharField(default='', max_length=64)),
                ('category', fields.CharField(default='', max_length=32)),
                ('count', fields.IntField()),
                ('heat', fields.FloatField()),
                ('growth', fields.FloatField()),
                ('members', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('first_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'radar_alert', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A burst the radar raised (热点预警): one row per cluster, so each alerts once.'},
            bases=['Model'],
        ),
    ]
