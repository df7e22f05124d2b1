from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0009_web_session')]

    initial = False

    operations = [
        ops.CreateModel(
            name='WeChatNonce',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('request', fields.CharField(max_length=64)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'wechat_nonce', 'app': 'models', 'pk_attr': 'key', 'table_description': 'A (timestamp, nonce) pair of a signed /wechat request, shared by every web worker.'},
            bases=['Model'],
        ),
    ]
