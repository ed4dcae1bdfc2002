from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("shop_admin", "0008_team"),
    ]

    operations = [
        migrations.AlterField(
            model_name="shopevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("member_added", "添加成员"),
                    ("member_joined", "通过邀请链接加入"),
                    ("member_role_changed", "修改角色"),
                    ("member_disabled", "停用成员"),
                    ("member_enabled", "启用成员"),
                    ("invite_created", "生成邀请链接"),
                    ("rules_changed", "修改店铺设置"),
                    ("reconciliation_requested", "发起对账"),
                ],
                max_length=30,
                verbose_name="事件",
            ),
        ),
    ]
