"""After-sale cases: what the buyer asked for, by when the merchant must answer, and where the case stands."""
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from aftersale.constants import AfterSaleStatus, AfterSaleType
from orders.models import MONEY, Buyer, Order
from shop_admin.kernel.models import Shop


class AfterSaleCase(ConcurrentTransitionMixin, models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="+")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+")
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="+")
    type = models.CharField(_("售后类型"), max_length=20, choices=AfterSaleType.choices)
    # Transitions come with the review, return and arbitration services of the after-sale issue.
    status = FSMField(_("状态"), max_length=20, choices=AfterSaleStatus.choices, default=AfterSaleStatus.REQUESTED, protected=True)
    reason = models.CharField(_("原因"), max_length=100)
    description = models.TextField(_("描述"), blank=True)
    amount = models.DecimalField(_("申请金额"), null=True, blank=True, **MONEY)
    evidence = models.JSONField(_("凭证"), default=list, blank=True)
    reply_deadline = models.DateTimeField(_("商家处理截止"))
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("售后单")
        verbose_name_plural = _("售后单")
        indexes = [
            models.Index(fields=["shop", "status", "reply_deadline"], name="aftersale_shop_status_due"),
            models.Index(fields=["shop", "-created_at"], name="aftersale_shop_created"),
            models.Index(
                fields=["reply_deadline"], name="aftersale_reply_due", condition=Q(status=AfterSaleStatus.REQUESTED)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} #{self.pk}"

    # --- transitions: state only; services write the event and move money ---

    @transition(field=status, source=AfterSaleStatus.REQUESTED, target=AfterSaleStatus.AWAITING_RETURN)
    def approve_return(self) -> None:
        """Agreed: the buyer ships the goods back."""

    @transition(field=status, source=AfterSaleStatus.REQUESTED, target=AfterSaleStatus.APPROVED)
    def approve(self) -> None:
        """Agreed: the refund or the reship follows."""
