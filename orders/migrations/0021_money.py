from decimal import Decimal

from django.db import migrations, models
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce


def cancelled_by_from_events(apps, schema_editor):
    """Cancelled orders learn who cancelled them from their audit trail: the actor of their last move to cancelled."""
    Order = apps.get_model("orders", "Order")
    OrderEvent = apps.get_model("orders", "OrderEvent")
    actor = OrderEvent.objects.filter(order_id=OuterRef("pk"), kind="transition", to_status="cancelled").order_by("-created_at", "-id")
    Order.objects.filter(status="cancelled").update(cancelled_by=Coalesce(Subquery(actor.values("actor_kind")[:1]), Value("")))


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0020_order_fk_indexes_covered'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='idempotencyrecord',
            index=models.Index(fields=['created_at'], name='idempotency_created_at'),
        ),
        migrations.AddField(
            model_name='order',
            name='cancelled_by',
            field=models.CharField(blank=True, choices=[('user', '商家账号'), ('buyer', '买家'), ('system', '系统'), ('channel', '支付/物流渠道'), ('platform', '平台')], max_length=10, verbose_name='取消方'),
        ),
        migrations.RunPython(cancelled_by_from_events, migrations.RunPython.noop),
        # The same bounds, now read from settings; the old name spelt out 10-20 %.
        migrations.RemoveConstraint(
            model_name='product',
            name='product_presale_deposit_ratio_10_to_20_percent',
        ),
        migrations.AddConstraint(
            model_name='product',
            constraint=models.CheckConstraint(condition=models.Q(('presale_deposit_ratio__isnull', True), models.Q(('presale_deposit_ratio__gte', Decimal('0.10')), ('presale_deposit_ratio__lte', Decimal('0.20'))), _connector='OR'), name='product_presale_deposit_ratio_in_bounds'),
        ),
    ]
