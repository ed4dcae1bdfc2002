"""Carriers and shipment states."""
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
