from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0002_ticket_clock_is_open")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Ticket",
            name="dispatch_text",
            field=fields.TextField(null=True, unique=False),
        ),
    ]
