"""The radar's stored key terms per ticket: a cold window no longer segments every ticket's
text again (issue #20 part 6; 55–66 s for a 24-hour window at 1,000,000 tickets)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [('models', '0025_similar')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RadarTerms',
            fields=[
                ('ticket_id', fields.IntField(generated=False, primary_key=True, unique=True, db_index=True)),
                ('sig', fields.CharField(max_length=16)),
                ('place', fields.CharField(default='', max_length=64)),
                ('tokens', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'radar_terms', 'app': 'models', 'pk_attr': 'ticket_id', 'table_description': 'What the radar read of one ticket, kept so no window segments it again (issue #20).'},
            bases=['Model'],
        ),
    ]
