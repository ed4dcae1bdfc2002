"""Stock per SKU per warehouse, and the audit of every stock edit."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders.models.catalog import Sku
from shop_admin.kernel.constants import ActorKind
from shop_admin.kernel.models import Warehouse


class StockLevel(models.Model):
    """Stock of one SKU in one warehouse. Units move available -> locked -> occupied -> deducted (shipped)."""

    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="stock_levels")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="+")
    available = models.IntegerField(_("可售"), default=0)
    locked = models.IntegerField(_("锁定"), default=0)
    occupied = models.IntegerField(_("占用"), default=0)

    class Meta:
        verbose_name = _("库存")
        verbose_name_plural = _("库存")
        constraints = [
            models.UniqueConstraint(fields=["sku", "warehouse"], name="stock_unique_sku_warehouse"),
            # The last line of defence against overselling: the database refuses a negative count.
            models.CheckConstraint(condition=Q(available__gte=0), name="stock_available_not_negative"),
            models.CheckConstraint(condition=Q(locked__gte=0), name="stock_locked_not_negative"),
            models.CheckConstraint(condition=Q(occupied__gte=0), name="stock_occupied_not_negative"),
        ]

    def __str__(self) -> str:
        return _("%(sku)s @ %(warehouse)s 的库存") % {"sku": self.sku, "warehouse": self.warehouse}


class StockAdjustment(models.Model):
    """Audit of a stock edit by a merchant or an ERP sync: counts before and after. Append-only."""

    # PROTECT: a stock level whose edits are audited is never deleted under its audit; the database refuses changes
    # to these rows too (migration 0021), so only `manage.py audit_prune` removes one, past AUDIT_RETENTION.
    stock_level = models.ForeignKey(StockLevel, on_delete=models.PROTECT, related_name="adjustments")
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    # PROTECT, not SET_NULL: nulling "who" would rewrite a committed audit row, which the database refuses; a user
    # who acted is deactivated, never deleted.
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=64, blank=True)
    on_hand = models.IntegerField()
    before = models.JSONField()
    after = models.JSONField()
    forced = models.BooleanField(default=False)
    oversold_orders = models.JSONField(default=list, blank=True)
    # An ERP's id for this sync: a repeat with the same id changes nothing.
    request_id = models.CharField(max_length=64, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("库存调整")
        verbose_name_plural = _("库存调整")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["stock_level", "request_id"], condition=Q(request_id__isnull=False), name="stock_adjustment_unique_request"
            )
        ]

    def __str__(self) -> str:
        return _("库存调整 #%(id)s：%(before)s → %(after)s") % {"id": self.pk, "before": self.before, "after": self.after}
