from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0010_wechat_nonce")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Ticket",
            name="dispatch_confirmed_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Ticket",
            name="dispatch_title",
            field=fields.CharField(null=True, max_length=200),
        ),
    ]
