"""Shipments: the parcel of an order with its carrier and tracking number."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from logistics.constants import Carrier, ShipmentStatus
from orders.models import Order
from shop_admin.kernel.models import Shop


class Shipment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="+")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+")
    carrier = models.CharField(_("快递公司"), max_length=10, choices=Carrier.choices)
    tracking_no = models.CharField(_("快递单号"), max_length=40)
    status = models.CharField(_("状态"), max_length=12, choices=ShipmentStatus.choices, default=ShipmentStatus.IN_TRANSIT)
    shipped_at = models.DateTimeField(_("发货时间"))
    last_event_at = models.DateTimeField(_("最近轨迹时间"), null=True, blank=True)
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("包裹")
        verbose_name_plural = _("包裹")
        constraints = [models.UniqueConstraint(fields=["carrier", "tracking_no"], name="shipment_unique_tracking")]
        indexes = [
            models.Index(fields=["shop", "tracking_no"], name="shipment_shop_tracking"),
            models.Index(fields=["tracking_no"], name="shipment_tracking"),
        ]
