from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0017_search')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AssessmentLog',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('month', fields.CharField(db_index=True, max_length=7)),
                ('action', fields.CharField(max_length=16)),
                ('actor', fields.CharField(max_length=64)),
                ('reason', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'assessment_log', 'app': 'models', 'pk_attr': 'id', 'table_description': "One lock or reopen of a month's 考核: who, when, why."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AssessmentMonth',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('month', fields.CharField(unique=True, max_length=7)),
                ('locked', fields.BooleanField(default=True)),
                ('figures', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('locked_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('locked_by', fields.CharField(max_length=64)),
            ],
            options={'table': 'assessment_month', 'app': 'models', 'pk_attr': 'id', 'table_description': "A month's 考核 as a supervisor confirmed it: the stored figures stay while `locked`."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RateDaily',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('day', fields.DateField()),
                ('unit', fields.CharField(max_length=32)),
                ('dispatched', fields.IntField(default=0)),
                ('signed', fields.IntField(default=0)),
                ('signed_on_time', fields.IntField(default=0)),
                ('disputed', fields.IntField(default=0)),
                ('extended', fields.IntField(default=0)),
                ('replied', fields.IntField(default=0)),
                ('replied_on_time', fields.IntField(default=0)),
                ('callbacks', fields.IntField(default=0)),
                ('contacted', fields.IntField(default=0)),
                ('solved', fields.IntField(default=0)),
                ('satisfied', fields.IntField(default=0)),
                ('basically_satisfied', fields.IntField(default=0)),
                ('unsatisfied', fields.IntField(default=0)),
                ('reopened', fields.IntField(default=0)),
            ],
            options={'table': 'rate_daily', 'app': 'models', 'unique_together': (('day', 'unit'),), 'pk_attr': 'id', 'table_description': "A unit's rate counts of one local (Asia/Shanghai) day: the sums of its assignment rows"},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='RateAssignment',
            name='unreplied_due_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='RateAssignment',
            name='unsigned_due_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='RateAssignment',
            index=Index(fields=['unsigned_due_at', 'dispatched_at', 'unit']),
        ),
        ops.AddIndex(
            model_name='RateAssignment',
            index=Index(fields=['unreplied_due_at', 'dispatched_at', 'unit']),
        ),
    ]
