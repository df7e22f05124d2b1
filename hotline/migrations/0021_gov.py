"""The sweeper warns and escalates 协办 and 下派 deadlines (ticket_unit.due_at) once each:
their warning point and the two flags, with an index for each look-up (issue #19)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0020_radar")]

    initial = False

    operations = [
        ops.AddField(
            model_name="TicketUnit",
            name="warn_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="TicketUnit",
            name="warned",
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name="TicketUnit",
            name="breached",
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddIndex(
            model_name="TicketUnit",
            index=Index(fields=["active", "breached", "due_at"]),
        ),
        ops.AddIndex(
            model_name="TicketUnit",
            index=Index(fields=["active", "warned", "warn_at"]),
        ),
    ]
