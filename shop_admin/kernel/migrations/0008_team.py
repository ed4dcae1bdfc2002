"""The team (finance role, disabled members, its audit trail) and each shop's own rule settings; the audit is append-only."""
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


TABLE = "shop_admin_shopevent"


def append_only_create(apps, schema_editor):
    # The function is orders' 0023 (a dependency below), so the trail of every app is refused the same way.
    schema_editor.execute(
        f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} FOR EACH ROW EXECUTE FUNCTION shop_admin_append_only()"
    )


def append_only_drop(apps, schema_editor):
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0023_audit_append_only'),
        ('shop_admin', '0007_shop_sender'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ShopRules',
            fields=[
                ('shop', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='rules', serialize=False, to='shop_admin.shop')),
                ('ship_promise_hours', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='发货时效（小时）')),
                ('aftersale_reply_hours', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='售后审核时限（小时）')),
                ('aftersale_reply_hours_fragile', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='生鲜易碎售后审核时限（小时）')),
                ('recovery_window_hours', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='订单召回时限（小时）')),
                ('auto_confirm_days', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='自动确认收货（天）')),
                ('auto_confirm_days_remote', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='偏远地区自动确认收货（天）')),
                ('auto_confirm_days_fresh', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='生鲜自动确认收货（天）')),
                ('auto_confirm_days_presale', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='预售自动确认收货（天）')),
                ('low_stock_threshold', models.PositiveIntegerField(blank=True, null=True, verbose_name='低库存阈值')),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'verbose_name': '店铺设置',
                'verbose_name_plural': '店铺设置',
            },
        ),
        migrations.AddField(
            model_name='membership',
            name='is_active',
            field=models.BooleanField(default=True, verbose_name='启用'),
        ),
        migrations.AlterField(
            model_name='membership',
            name='role',
            field=models.CharField(choices=[('owner', '店主'), ('service', '客服'), ('warehouse', '仓库'), ('finance', '财务')], max_length=20, verbose_name='角色'),
        ),
        migrations.CreateModel(
            name='ShopEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('member_added', '添加成员'), ('member_joined', '通过邀请链接加入'), ('member_role_changed', '修改角色'), ('member_disabled', '停用成员'), ('member_enabled', '启用成员'), ('invite_created', '生成邀请链接'), ('rules_changed', '修改店铺设置')], max_length=30, verbose_name='事件')),
                ('data', models.JSONField(blank=True, default=dict)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('actor_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('member_user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('shop', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='shop_admin.shop')),
            ],
            options={
                'verbose_name': '店铺操作记录',
                'verbose_name_plural': '店铺操作记录',
                'ordering': ['-created_at', '-pk'],
                'indexes': [models.Index(fields=['shop', '-created_at'], name='shop_event_shop_created')],
            },
        ),
        migrations.RunPython(append_only_create, append_only_drop),
    ]
