"""After-sale case types and states (the contract's names)."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class AfterSaleType(models.TextChoices):
    RETURN_REFUND = "return_refund", _("退货退款")
    REFUND_ONLY = "refund_only", _("仅退款")
    EXCHANGE = "exchange", _("换货")
    REPAIR = "repair", _("维修")
    RESHIP = "reship", _("补寄")


class AfterSaleStatus(models.TextChoices):
    REQUESTED = "requested", _("待商家处理")  # waiting for the merchant, reply deadline running
    NEGOTIATING = "negotiating", _("协商中")
    APPROVED = "approved", _("已同意")  # agreed (or approved by the clock); the refund or reship follows
    AWAITING_RETURN = "awaiting_return", _("待买家退货")
    RETURNING = "returning", _("退货中")
    INSPECTING = "inspecting", _("待验货")
    REFUNDED = "refunded", _("已退款")
    REJECTED = "rejected", _("商家已拒绝")
    ARBITRATING = "arbitrating", _("平台仲裁中")
    CLOSED = "closed", _("已关闭")


# The merchant owes an answer in these states; the dashboard counts them.
AWAITING_MERCHANT = [AfterSaleStatus.REQUESTED, AfterSaleStatus.INSPECTING]


# Cases that want goods back before anything else happens.
RETURN_TYPES = {AfterSaleType.RETURN_REFUND, AfterSaleType.EXCHANGE, AfterSaleType.REPAIR}


class AfterSaleEventKind(models.TextChoices):
    """What after-sale writes on the order's timeline."""

    OPENED = "aftersale_opened", _("申请售后")  # data: aftersale_id, type
    AUTO_APPROVED = "aftersale_auto_approved", _("售后超时自动同意")  # data: aftersale_id, type, to_status
