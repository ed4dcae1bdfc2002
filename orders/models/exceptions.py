"""The one exception record any app raises against an order."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders.constants import (
    ExceptionKind,
    ExceptionStatus,
)
from orders.models.coupons import Coupon
from orders.models.order import Order
from shop_admin.kernel.models import Shop
from shop_admin.kernel.text import stored_text


class OrderException(models.Model):
    """The one exception record any app raises against an order (logistics, stock, payment, after-sale)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="exceptions")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("异常类型"), max_length=20, choices=ExceptionKind.choices)
    status = models.CharField(_("状态"), max_length=10, choices=ExceptionStatus.choices, default=ExceptionStatus.OPEN)
    detail = models.TextField(_("说明"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    opened_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)
    resolution = models.TextField(_("处理结果"), blank=True)
    # Where a rule gives one (ship-by for a held order, 7 days for paid-not-shipped, 15 days after signing for a loss).
    deadline = models.DateTimeField(_("处理时限"), null=True, blank=True)
    # Still open when its deadline passed: escalated to the platform (arbitrators see it in the admin), the merchant told.
    escalated_at = models.DateTimeField(_("升级平台时间"), null=True, blank=True)
    # Evidence urls: photos, chat logs, tracking screenshots, compensation proof; appended, never replaced.
    evidence = models.JSONField(_("证据"), default=list, blank=True)
    remedy = models.CharField(_("处理方式"), max_length=30, blank=True)
    note = models.TextField(_("处理备注"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("处理人")
    )
    resolved_by_label = models.CharField(_("处理人"), max_length=64, blank=True)
    # One compensation coupon per exception, held by the database.
    coupon = models.OneToOneField(
        Coupon, null=True, blank=True, on_delete=models.SET_NULL, related_name="compensated_exception", verbose_name=_("补偿券")
    )

    class Meta:
        verbose_name = _("订单异常")
        verbose_name_plural = _("订单异常")
        indexes = [
            models.Index(fields=["shop", "status", "kind"], name="exception_shop_status_kind"),
            # The exception centre: a shop's open exceptions, oldest first, with or without a kind.
            models.Index(fields=["shop", "status", "opened_at", "id"], name="exception_shop_status_opened"),
            models.Index(fields=["shop", "status", "kind", "opened_at", "id"], name="exception_shop_kind_opened"),
            # The deadline sweep reads only open exceptions not yet escalated: a few per cent of the table.
            models.Index(
                fields=["deadline"],
                name="exception_deadline_due",
                condition=Q(status=ExceptionStatus.OPEN, escalated_at__isnull=True, deadline__isnull=False),
            ),
            # The bell's "escalated" to-dos: a shop's newest escalations.
            models.Index(fields=["shop", "escalated_at"], name="exception_shop_escalated", condition=Q(escalated_at__isnull=False)),
            # The dashboard tile's nearest deadline of the open ones (it read every open exception's row), and the deadline
            # queue's page of them in (deadline, id) order.
            models.Index(
                fields=["shop", "deadline", "id"],
                name="exception_open_deadline",
                condition=Q(status=ExceptionStatus.OPEN, deadline__isnull=False),
            ),
        ]
        constraints = [
            # One open exception of a kind per order: raising it again is a no-op, not a duplicate.
            models.UniqueConstraint(
                fields=["order", "kind"], condition=Q(status=ExceptionStatus.OPEN), name="exception_one_open_per_kind"
            )
        ]

    # Django's generated get_FOO_display rebuilds a dict of the field's choices, translating every
    # label, on each call: half of the exception feed's time at 100 rows. The enum's lookup is a dict hit.
    def get_kind_display(self) -> str:
        try:
            return ExceptionKind(self.kind).label
        except ValueError:
            return self.kind

    def get_status_display(self) -> str:
        try:
            return ExceptionStatus(self.status).label
        except ValueError:
            return self.status

    @property
    def detail_text(self) -> str:
        return stored_text(self.detail, self.data.get("detail_params"))

    @property
    def resolution_text(self) -> str:
        return stored_text(self.resolution, self.data.get("resolution_params"))

    def __str__(self) -> str:
        return _("订单 %(order)s 的异常 #%(id)s（%(kind)s）") % {"order": self.order, "id": self.pk, "kind": self.get_kind_display()}
