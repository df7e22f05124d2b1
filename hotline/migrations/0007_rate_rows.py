from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0006_ticket_anonymised_at')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RateAssignment',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket', fields.ForeignKeyField('models.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='rate_assignments', on_delete=OnDelete.CASCADE)),
                ('ordinal', fields.SmallIntField()),
                ('unit', fields.CharField(max_length=32)),
                ('dispatched_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('merged', fields.BooleanField(default=False)),
                ('dispatched', fields.SmallIntField(default=0)),
                ('signed', fields.SmallIntField(default=0)),
                ('signed_on_time', fields.SmallIntField(default=0)),
                ('disputed', fields.SmallIntField(default=0)),
                ('extended', fields.SmallIntField(default=0)),
                ('replied', fields.SmallIntField(default=0)),
                ('replied_on_time', fields.SmallIntField(default=0)),
            ],
            options={'table': 'rate_assignment', 'app': 'models', 'unique_together': (('ticket_id', 'ordinal'),), 'indexes': [Index(fields=['dispatched_at', 'unit', 'dispatched', 'signed', 'signed_on_time', 'disputed', 'extended', 'replied', 'replied_on_time'])], 'pk_attr': 'id', 'table_description': "One 派单/改派 and what it adds to its unit's audited counts (hotline.reporting.unit_rates)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RateCallback',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket', fields.ForeignKeyField('models.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='rate_callbacks', on_delete=OnDelete.CASCADE)),
                ('ordinal', fields.SmallIntField()),
                ('unit', fields.CharField(max_length=32)),
                ('called_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('satisfaction', fields.CharField(null=True, max_length=8)),
                ('contacted', fields.SmallIntField(default=0)),
                ('solved', fields.SmallIntField(default=0)),
                ('satisfied', fields.SmallIntField(default=0)),
                ('basically_satisfied', fields.SmallIntField(default=0)),
                ('unsatisfied', fields.SmallIntField(default=0)),
                ('reopened', fields.SmallIntField(default=0)),
            ],
            options={'table': 'rate_callback', 'app': 'models', 'unique_together': (('ticket_id', 'ordinal'),), 'indexes': [Index(fields=['called_at', 'unit', 'contacted', 'solved', 'satisfied', 'basically_satisfied', 'unsatisfied', 'reopened'])], 'pk_attr': 'id', 'table_description': 'One 回访 and what it adds to the counts of the unit that held the ticket then.'},
            bases=['Model'],
        ),
    ]
