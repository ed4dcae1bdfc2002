"""Carriers, shipment states and tracking event codes."""
import re

from django.db import models
from django.utils.translation import gettext_lazy as _


class Carrier(models.TextChoices):
    ZTO = "ZTO", _("中通")
    YTO = "YTO", _("圆通")
    YUNDA = "YUNDA", _("韵达")
    STO = "STO", _("申通")
    SF = "SF", _("顺丰")
    JD = "JD", _("京东")
    JT = "JT", _("极兔")
    EMS = "EMS", _("EMS")


# The shape of each carrier's waybill numbers; a number that does not fit is a typo, caught before it ships.
TRACKING_PATTERNS = {
    Carrier.ZTO: re.compile(r"^[3-7]\d{11,14}$"),
    Carrier.YTO: re.compile(r"^YT\d{13,15}$"),
    Carrier.YUNDA: re.compile(r"^\d{13,15}$"),
    Carrier.STO: re.compile(r"^\d{12,15}$"),
    Carrier.SF: re.compile(r"^(SF\d{12,13}|\d{12})$"),
    Carrier.JD: re.compile(r"^JD[0-9A-Z]{10,14}$"),
    Carrier.JT: re.compile(r"^JT\d{13}$"),
    Carrier.EMS: re.compile(r"^([A-Z]{2}\d{9}[A-Z]{2}|\d{13})$"),
}


class ShipmentStatus(models.TextChoices):
    IN_TRANSIT = "in_transit", _("运输中")  # handed over, not yet signed
    SIGNED = "signed", _("已签收")
    REJECTED = "rejected", _("拒收")
    RETURNING = "returning", _("退回中")  # the carrier is taking it back to the shop


# Parcels the stall rule watches: still on the road, one way or the other.
SHIPMENT_MOVING = (ShipmentStatus.IN_TRANSIT, ShipmentStatus.RETURNING)


class TrackingCode(models.TextChoices):
    COLLECTED = "collected", _("已揽收")
    IN_TRANSIT = "in_transit", _("运输中")
    OUT_FOR_DELIVERY = "out_for_delivery", _("派件中")
    SIGNED = "signed", _("已签收")
    REJECTED = "rejected", _("拒收")
    RETURNED = "returned", _("退回")  # going back to the shop (快递100: 6 退回 / 4 退签)
    PROBLEM = "problem", _("疑难件")  # address unclear, recipient unreachable (快递100: 2 疑难)


# What the parcel's status becomes when an event of this code is its latest.
STATUS_AFTER_EVENT = {
    TrackingCode.COLLECTED: ShipmentStatus.IN_TRANSIT,
    TrackingCode.IN_TRANSIT: ShipmentStatus.IN_TRANSIT,
    TrackingCode.OUT_FOR_DELIVERY: ShipmentStatus.IN_TRANSIT,
    TrackingCode.PROBLEM: ShipmentStatus.IN_TRANSIT,
    TrackingCode.SIGNED: ShipmentStatus.SIGNED,
    TrackingCode.REJECTED: ShipmentStatus.REJECTED,
    TrackingCode.RETURNED: ShipmentStatus.RETURNING,
}

# Two events stamped with the same time: the one further along the parcel's life wins.
CODE_RANK = {
    TrackingCode.COLLECTED: 0,
    TrackingCode.IN_TRANSIT: 1,
    TrackingCode.PROBLEM: 2,
    TrackingCode.OUT_FOR_DELIVERY: 3,
    TrackingCode.REJECTED: 4,
    TrackingCode.RETURNED: 5,
    TrackingCode.SIGNED: 6,
}


class InterceptResult(models.TextChoices):
    """How an interception ended, as the tracking told it."""

    RETURNED = "returned", _("拦截成功，退回商家")  # the carrier turned it back (or the buyer refused it at the door)
    SIGNED = "signed", _("拦截失败，已签收")  # delivered before the interception took


class FreightPayer(models.TextChoices):
    BUYER = "buyer", _("按订单")  # the order's own freight
    MERCHANT = "merchant", _("商家承担")  # a reship the merchant pays for


class LogisticsEventKind(models.TextChoices):
    """Order timeline entries logistics writes."""

    PARCEL_ADDED = "parcel_added", _("追加包裹")  # a further parcel of an order already shipped
    PARCEL_RESHIPPED = "parcel_reshipped", _("补发包裹")  # signed but not received: the merchant sends again at its cost
    NOT_RECEIVED_ANSWERED = "not_received_answered", _("商家举证")  # signed but not received: the merchant answers with evidence
    INTERCEPT_REQUESTED = "parcel_intercept_requested", _("申请拦截包裹")  # data: carrier, tracking_no, source
    INTERCEPT_RESULT = "parcel_intercept_result", _("包裹拦截结果")  # data: carrier, tracking_no, source, result
