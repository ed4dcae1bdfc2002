"""The reconciliation's result per shop and day, so a shop can run its own day on demand (issue 23).

A platform-wide row of a day becomes one row per shop holding that shop's mismatches. The old
rows did not count checked orders and payments per shop: the split rows say 0 until the day
is run again (the page's button, or `manage.py reconcile --date D`).
"""
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def split_per_shop(apps, schema_editor):
    Run = apps.get_model("orders", "ReconciliationRun")
    Shop = apps.get_model("shop_admin", "Shop")
    shop_ids = list(Shop.objects.values_list("pk", flat=True))
    for old in Run.objects.filter(shop__isnull=True).order_by("day"):
        for shop_id in shop_ids:
            mine = [m for m in old.mismatches if m.get("shop_id") == shop_id]
            Run.objects.create(shop_id=shop_id, day=old.day, ran_at=old.ran_at, mismatches=mine)
        old.delete()


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0027_deadline_queue_index_ranges"),
        ("shop_admin", "0009_shop_event_reconciliation"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(model_name="reconciliationrun", name="day", field=models.DateField(verbose_name="对账日期")),
        migrations.AlterField(
            model_name="reconciliationrun", name="ran_at", field=models.DateTimeField(blank=True, null=True, verbose_name="对账时间")
        ),
        migrations.AddField(
            model_name="reconciliationrun",
            name="shop",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="shop_admin.shop"),
        ),
        migrations.AddField(
            model_name="reconciliationrun",
            name="requested_by",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL,
                verbose_name="发起人",
            ),
        ),
        migrations.AddField(
            model_name="reconciliationrun", name="requested_at", field=models.DateTimeField(blank=True, null=True, verbose_name="发起时间")
        ),
        migrations.AddField(
            model_name="reconciliationrun",
            name="job",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="shop_admin.backgroundjob"
            ),
        ),
        migrations.RunPython(split_per_shop, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="reconciliationrun",
            name="shop",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="shop_admin.shop"),
        ),
        migrations.AddConstraint(
            model_name="reconciliationrun",
            constraint=models.UniqueConstraint(fields=("shop", "day"), name="reconciliation_one_run_per_shop_day"),
        ),
    ]
