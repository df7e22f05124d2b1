from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0003_ticket_dispatch_text")]

    initial = False

    operations = [
        ops.CreateModel(
            name="IdempotencyKey",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("scope", fields.CharField(max_length=64)),
                ("key", fields.CharField(max_length=128)),
                ("fingerprint", fields.CharField(max_length=64)),
                ("ticket_number", fields.CharField(max_length=20)),
                ("action", fields.CharField(max_length=24)),
                (
                    "created_at",
                    fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "idempotency_key",
                "app": "models",
                "unique_together": (("scope", "key"),),
                "pk_attr": "id",
                "table_description": "A request a client may retry: the key it sent and the ticket the first attempt made.",
            },
            bases=["Model"],
        ),
    ]
