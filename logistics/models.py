"""Shipments (the parcel of an order with its carrier and tracking number) and their tracking events."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from logistics.constants import SHIPMENT_MOVING, Carrier, FreightPayer, InterceptResult, ShipmentStatus, TrackingCode
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
    last_event_code = models.CharField(_("最近轨迹"), max_length=20, choices=TrackingCode.choices, blank=True)
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    # No event by this time (last event, or shipping, + LOGISTICS_STALL_AFTER): the parcel is stalled.
    stall_deadline = models.DateTimeField(_("停滞判定时间"), null=True, blank=True)
    stalled_at = models.DateTimeField(_("停滞时间"), null=True, blank=True)  # set while the parcel is stalled
    # When the parcel raised its one pickup_overdue / delivery_overdue alert: a parcel is alerted once, and the scan
    # that arrives later knows there is an exception to close.
    pickup_overdue_at = models.DateTimeField(_("揽收超时时间"), null=True, blank=True)
    delivery_overdue_at = models.DateTimeField(_("签收超时时间"), null=True, blank=True)
    # The parcel's route (with its carrier), fixed when it ships: where the goods leave from (the shipping warehouse's
    # province) and the buyer's province. Route statistics (RouteStat) are per shop and route.
    origin_province = models.CharField(_("发货省"), max_length=30, blank=True, default="")
    destination_province = models.CharField(_("收货省"), max_length=30, blank=True, default="")
    door_delivery = models.BooleanField(_("音尊达"), default=False, help_text=_("送货上门，优先派送"))
    is_reship = models.BooleanField(_("补发"), default=False)
    freight_payer = models.CharField(_("运费承担"), max_length=10, choices=FreightPayer.choices, default=FreightPayer.BUYER)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Interception (拦截): someone (a refund-only claim, `intercept_source`) asked the carrier to stop the parcel and bring it
    # back; the tracking says how it ended: returned (the interception worked) or signed (too late).
    intercept_requested_at = models.DateTimeField(_("申请拦截时间"), null=True, blank=True)
    intercept_source = models.CharField(_("拦截来源"), max_length=40, blank=True, help_text=_("aftersale:<id>"))
    intercept_result = models.CharField(_("拦截结果"), max_length=10, choices=InterceptResult.choices, blank=True)
    intercept_result_at = models.DateTimeField(_("拦截结果时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("包裹")
        verbose_name_plural = _("包裹")
        constraints = [models.UniqueConstraint(fields=["carrier", "tracking_no"], name="shipment_unique_tracking")]
        indexes = [
            models.Index(fields=["shop", "tracking_no"], name="shipment_shop_tracking"),
            models.Index(fields=["tracking_no"], name="shipment_tracking"),
            models.Index(fields=["shop", "-shipped_at", "-id"], name="shipment_shop_shipped"),
            # The stall sweep reads only parcels still on the road and not yet stalled: a few per cent of the table.
            models.Index(
                fields=["stall_deadline"],
                name="shipment_stall_due",
                condition=Q(status__in=SHIPMENT_MOVING, stalled_at__isnull=True),
            ),
            models.Index(fields=["shop", "stalled_at"], name="shipment_shop_stalled", condition=Q(stalled_at__isnull=False)),
            # The parcel-alert sweeps read only parcels on their way out not yet alerted: a few per cent of the table.
            models.Index(
                fields=["shipped_at", "id"],
                name="shipment_pickup_due",
                condition=Q(status=ShipmentStatus.IN_TRANSIT, last_event_at__isnull=True, pickup_overdue_at__isnull=True),
            ),
            models.Index(
                fields=["shipped_at", "id"],
                name="shipment_delivery_due",
                condition=Q(status=ShipmentStatus.IN_TRANSIT, delivery_overdue_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_no}"


class TrackingEvent(models.Model):
    """One step of a parcel as the carrier reported it; the same report twice is stored once (dedupe_key)."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    # The parcel's order, copied: what belongs to an order's history is found from the order (demo data moves it in time).
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="+", db_index=False)
    code = models.CharField(_("轨迹"), max_length=20, choices=TrackingCode.choices)
    occurred_at = models.DateTimeField(_("时间"))
    location = models.CharField(_("地点"), max_length=100, blank=True)
    description = models.CharField(_("描述"), max_length=300, blank=True)
    # A digest of code, time, place and text: what makes two pushes "the same event".
    dedupe_key = models.CharField(max_length=40)
    received_at = models.DateTimeField(_("接收时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("物流轨迹")
        verbose_name_plural = _("物流轨迹")
        constraints = [models.UniqueConstraint(fields=["shipment", "dedupe_key"], name="tracking_event_once")]
        indexes = [models.Index(fields=["shipment", "occurred_at"], name="tracking_event_time")]

    def __str__(self) -> str:
        return _("包裹 #%(shipment)s 的轨迹 %(code)s") % {"shipment": self.shipment_id, "code": self.get_code_display()}



class RouteStat(models.Model):
    """A shop's own delivery history on one route (carrier, origin, destination): transit time and the longest silence.

    Recomputed daily from the parcels signed in the last LOGISTICS_ROUTE_STATS_WINDOW (`logistics.sql.route_stats_refresh`);
    a route counts only from LOGISTICS_ROUTE_MIN_DELIVERED delivered parcels on (read time), below that defaults apply.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    carrier = models.CharField(_("快递公司"), max_length=10, choices=Carrier.choices)
    origin_province = models.CharField(_("发货省"), max_length=30, blank=True)
    destination_province = models.CharField(_("收货省"), max_length=30, blank=True)
    delivered = models.PositiveIntegerField(_("已签收包裹数"))
    # Shipped -> signed.
    transit_p50 = models.DurationField(_("运输时长 p50"))
    transit_p95 = models.DurationField(_("运输时长 p95"))
    # The largest gap between consecutive scans of a parcel (shipping counts as the first), up to its signing.
    idle_p50 = models.DurationField(_("最长无轨迹 p50"))
    idle_p95 = models.DurationField(_("最长无轨迹 p95"))
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        verbose_name = _("线路时效")
        verbose_name_plural = _("线路时效")
        constraints = [
            models.UniqueConstraint(fields=["shop", "carrier", "origin_province", "destination_province"], name="route_stat_once"),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.origin_province} -> {self.destination_province}"
