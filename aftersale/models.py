"""After-sale cases: what the buyer asked for, on which lines, by when the next step is due, and where the case stands."""
import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from aftersale.constants import (
    OPEN_STATUSES,
    REFUND_TYPES,
    RETURN_TYPES,
    AfterSaleStatus,
    AfterSaleType,
    MessageAuthor,
    Ruling,
    douyin_code,
)
from orders.models import MONEY, Buyer, Order, OrderLine, Refund
from shop_admin.kernel.models import Shop

S = AfterSaleStatus


class AfterSaleCase(ConcurrentTransitionMixin, models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="+")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+")
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="+")
    type = models.CharField(_("售后类型"), max_length=20, choices=AfterSaleType.choices)
    status = FSMField(_("状态"), max_length=20, choices=AfterSaleStatus.choices, default=AfterSaleStatus.REQUESTED, protected=True)
    reason = models.CharField(_("原因"), max_length=100)
    description = models.TextField(_("描述"), blank=True)
    amount = models.DecimalField(_("申请金额"), null=True, blank=True, **MONEY)
    evidence = models.JSONField(_("凭证"), default=list, blank=True)
    is_fragile = models.BooleanField(_("生鲜/易碎"), default=False)

    # The deadline of the step the case waits for (reply, return parcel, inspection, arbitration): the list sorts by it.
    due_at = models.DateTimeField(_("处理截止"), null=True, blank=True)
    reply_deadline = models.DateTimeField(_("商家处理截止"))
    return_deadline = models.DateTimeField(_("买家退货截止"), null=True, blank=True)
    inspect_deadline = models.DateTimeField(_("验货截止"), null=True, blank=True)
    appeal_deadline = models.DateTimeField(_("可申请仲裁截止"), null=True, blank=True)

    # What the buyer was sent when the return was agreed, kept as sent: the address book may change or lose the row later.
    return_address = models.CharField(_("退货地址"), max_length=400, blank=True)
    return_carrier = models.CharField(_("退货快递公司"), max_length=10, blank=True)
    return_tracking_no = models.CharField(_("退货快递单号"), max_length=40, blank=True)
    return_shipped_at = models.DateTimeField(_("买家寄回时间"), null=True, blank=True)
    return_received_at = models.DateTimeField(_("商家收货时间"), null=True, blank=True)
    reship_carrier = models.CharField(_("补寄快递公司"), max_length=10, blank=True)
    reship_tracking_no = models.CharField(_("补寄快递单号"), max_length=40, blank=True)
    intercepted_at = models.DateTimeField(_("拦截时间"), null=True, blank=True)

    refund = models.ForeignKey(Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    deductions = models.JSONField(_("扣款"), default=list, blank=True)
    reject_reason = models.CharField(_("拒绝原因"), max_length=200, blank=True)
    reject_evidence = models.JSONField(_("拒绝凭证"), default=list, blank=True)
    rejected_after_inspection = models.BooleanField(default=False)
    arbitration_reason = models.CharField(_("仲裁理由"), max_length=300, blank=True)
    ruling = models.CharField(_("仲裁结果"), max_length=20, choices=Ruling.choices, blank=True)
    ruling_note = models.CharField(_("仲裁说明"), max_length=300, blank=True)

    first_response_at = models.DateTimeField(_("商家首次响应"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("售后单")
        verbose_name_plural = _("售后单")
        permissions = [("arbitrate_aftersalecase", _("仲裁售后纠纷"))]
        indexes = [
            models.Index(fields=["shop", "status", "reply_deadline"], name="aftersale_shop_status_due"),
            models.Index(fields=["shop", "-created_at"], name="aftersale_shop_created"),
            # The dashboard's after-sale scores read a month of a shop's cases from this index alone: the created_at index
            # fetched each case's row, thousands in a big shop (tests/perf/README.md).
            models.Index(
                fields=["shop", "created_at"], include=["first_response_at", "refund"], name="aftersale_shop_created_scores"
            ),
            models.Index(fields=["shop", "due_at", "id"], name="aftersale_shop_due"),
            # The workbench's status tabs read this one in order: a rare status never scans the whole shop.
            models.Index(fields=["shop", "status", "due_at", "id"], name="aftersale_shop_status_due_id"),
            models.Index(fields=["order"], name="aftersale_order"),
            # The deadline queue's replies due: two statuses were two ranges of the index above, each read whole, then sorted.
            models.Index(
                fields=["shop", "due_at", "id"], name="aftersale_shop_reply_due", condition=Q(status__in=[S.REQUESTED, S.NEGOTIATING])
            ),
            # The sweeps read their batch in (deadline, id) order: with the id in the index a batch stops after its 500 rows,
            # where a deadline alone made each batch sort every case sharing the first deadline (an outage's backlog).
            models.Index(
                fields=["reply_deadline", "id"],
                name="aftersale_reply_open_due_id",
                condition=Q(status__in=[AfterSaleStatus.REQUESTED, AfterSaleStatus.NEGOTIATING]),
            ),
            models.Index(fields=["return_deadline", "id"], name="aftersale_return_due_id", condition=Q(status=S.AWAITING_RETURN)),
            models.Index(fields=["inspect_deadline", "id"], name="aftersale_inspect_due_id", condition=Q(status=S.INSPECTING)),
            models.Index(fields=["due_at"], name="aftersale_arbitration_due", condition=Q(status=AfterSaleStatus.ARBITRATING)),
            # The platform's admin lists every shop's cases by deadline, with or without a status: read in order, no sort.
            models.Index(fields=["due_at", "id"], name="aftersale_due_id"),
            models.Index(fields=["status", "due_at", "id"], name="aftersale_status_due_id"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def douyin_code(self) -> int:
        return douyin_code(self.status, rejected_after_inspection=self.rejected_after_inspection)

    def wants_return(self) -> bool:
        return self.type in RETURN_TYPES

    def wants_money_only(self) -> bool:
        return self.type == AfterSaleType.REFUND_ONLY

    def wants_reship(self) -> bool:
        return self.type == AfterSaleType.RESHIP

    def ends_in_goods(self) -> bool:
        return self.type in (AfterSaleType.EXCHANGE, AfterSaleType.REPAIR)

    # --- transitions: state only; services move money, write events and set deadlines ---

    @transition(field=status, source=[S.REQUESTED, S.NEGOTIATING], target=S.NEGOTIATING)
    def negotiate(self) -> None:
        """The merchant writes to the buyer before deciding."""

    @transition(field=status, source=[S.REQUESTED, S.NEGOTIATING], target=S.AWAITING_RETURN, conditions=[wants_return])
    def approve_return(self) -> None:
        """Agreed: the buyer ships the goods back."""

    @transition(field=status, source=[S.REQUESTED, S.NEGOTIATING], target=S.APPROVED, conditions=[wants_reship])
    def approve(self) -> None:
        """Agreed to send the missing items."""

    @transition(field=status, source=[S.REQUESTED, S.NEGOTIATING], target=S.REFUNDED, conditions=[lambda case: case.type in REFUND_TYPES])
    def approve_refund(self) -> None:
        """Agreed to a refund without a return (a refund-only claim, or a return claim whose goods the shop lets the buyer keep)."""

    @transition(field=status, source=[S.REQUESTED, S.NEGOTIATING], target=S.APPROVED, conditions=[wants_money_only])
    def await_interception(self) -> None:
        """Agreed to a refund, but the goods are on their way to the buyer: the parcel is intercepted first."""

    @transition(field=status, source=S.APPROVED, target=S.REFUNDED, conditions=[wants_money_only])
    def refund_intercepted(self) -> None:
        """The interception worked (the parcel goes back, or is back in the shop): the money goes back now."""

    @transition(field=status, source=S.APPROVED, target=S.AWAITING_RETURN, conditions=[wants_money_only])
    def return_after_signing(self) -> None:
        """The parcel was signed before the interception took: the refund now waits for the goods to come back."""

    @transition(field=status, source=[S.REQUESTED, S.NEGOTIATING, S.INSPECTING], target=S.REJECTED)
    def reject(self) -> None:
        """Refused with a reason and evidence; the buyer may ask the platform."""

    @transition(field=status, source=S.AWAITING_RETURN, target=S.RETURNING)
    def ship_return(self) -> None:
        pass

    @transition(field=status, source=[S.AWAITING_RETURN, S.RETURNING], target=S.INSPECTING)
    def receive_return(self) -> None:
        """The merchant has the goods back (a return shipped without a tracking number in the app counts too)."""

    @transition(field=status, source=S.INSPECTING, target=S.REFUNDED, conditions=[])
    def refund_after_inspection(self) -> None:
        pass

    @transition(field=status, source=[S.INSPECTING], target=S.RESHIPPED, conditions=[ends_in_goods])
    def reship_exchange(self) -> None:
        pass

    @transition(field=status, source=[S.APPROVED], target=S.RESHIPPED, conditions=[wants_reship])
    def reship_missing(self) -> None:
        pass

    @transition(field=status, source=S.AWAITING_RETURN, target=S.CLOSED)
    def close_unreturned(self) -> None:
        """The buyer did not ship the return in time."""

    @transition(field=status, source=S.REJECTED, target=S.ARBITRATING)
    def escalate(self) -> None:
        pass

    @transition(field=status, source=[S.REQUESTED, S.NEGOTIATING], target=S.ARBITRATING)
    def refer_to_platform(self) -> None:
        """A flagged buyer's unanswered case goes to the platform instead of being approved by the clock."""

    @transition(field=status, source=S.ARBITRATING, target=S.REFUNDED)
    def rule_for_buyer(self) -> None:
        pass

    @transition(field=status, source=S.ARBITRATING, target=S.CLOSED)
    def rule_for_merchant(self) -> None:
        pass


class AfterSaleLine(models.Model):
    """An order line the case covers, with how many units."""

    case = models.ForeignKey(AfterSaleCase, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("数量"))
    # Whether the case is open, copied from its status by `case_lines_follow` (every change of a case's status goes
    # through it): a partial index cannot read the case's row, and this copy lets the database hold the rule.
    case_open = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("售后商品")
        verbose_name_plural = _("售后商品")
        constraints = [
            models.UniqueConstraint(fields=["case", "line"], name="aftersale_line_once_per_case"),
            # One open case per order line, whatever races: two claims at once give one case and one 409.
            models.UniqueConstraint(fields=["line"], condition=Q(case_open=True), name="aftersale_one_open_case_per_line"),
        ]

    def __str__(self) -> str:
        return _("售后 #%(case)s 的 %(product)s ×%(quantity)s") % {"case": self.case_id, "product": f"{self.line.product_name} {self.line.spec}".strip(), "quantity": self.quantity}


class AfterSaleMessage(models.Model):
    """The negotiation thread, kept as evidence: buyer, merchant, platform and system notes."""

    case = models.ForeignKey(AfterSaleCase, on_delete=models.CASCADE, related_name="messages")
    author = models.CharField(_("发送方"), max_length=10, choices=MessageAuthor.choices)
    author_label = models.CharField(_("发送人"), max_length=64, blank=True)
    body = models.TextField(_("内容"))
    evidence = models.JSONField(_("凭证"), default=list, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("售后留言")
        verbose_name_plural = _("售后留言")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return _("售后 #%(case)s 的留言 #%(id)s") % {"case": self.case_id, "id": self.pk}


class MerchantPenalty(models.Model):
    """A ruling against the merchant: compensation paid from the shop's deposit and penalty points."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+")
    case = models.OneToOneField(AfterSaleCase, on_delete=models.PROTECT, related_name="penalty")
    compensation = models.DecimalField(_("保证金赔付"), **MONEY)
    points = models.PositiveSmallIntegerField(_("扣分"))
    note = models.CharField(_("说明"), max_length=300, blank=True)
    ruled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("商家处罚")
        verbose_name_plural = _("商家处罚")

    def __str__(self) -> str:
        return _("售后 #%(case)s 的商家处罚") % {"case": self.case_id}


class BuyerMark(models.Model):
    """Why a buyer is flagged: bad faith in an arbitration, or too many refunds in a day."""

    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(AfterSaleCase, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("原因"), max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("买家标记")
        verbose_name_plural = _("买家标记")

    def __str__(self) -> str:
        return _("买家 #%(buyer)s 的标记（售后 #%(case)s）") % {"buyer": self.buyer_id, "case": self.case_id}


class EvidenceStorage(FileSystemStorage):
    """Files under settings.EVIDENCE_ROOT, read at each use (a test points it elsewhere); never given a public URL."""

    @property
    def base_location(self):
        return str(settings.EVIDENCE_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)


def _evidence_storage():
    return EvidenceStorage()


class EvidenceFile(models.Model):
    """A photo, screenshot or video uploaded as evidence, kept outside the web root; its URL is a view that checks the shop."""

    case = models.ForeignKey(AfterSaleCase, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(storage=_evidence_storage, upload_to="%Y/%m/")
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    uploaded_by = models.CharField(_("上传方"), max_length=10, choices=MessageAuthor.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("售后凭证文件")
        verbose_name_plural = _("售后凭证文件")

    @property
    def url(self) -> str:
        return reverse("aftersale:evidence", args=[self.case_id, self.pk])

    def __str__(self) -> str:
        return _("售后 #%(case)s 的凭证文件 #%(id)s") % {"case": self.case_id, "id": self.pk}


from aftersale.models_return_addresses import ReturnAddress  # noqa: E402,F401  the address book, its own module
from aftersale.models_reviews import ProductReview, ReviewReport  # noqa: E402,F401  reviews and their reports, their own module
from aftersale.models_rules import AfterSaleRule, AfterSaleRuleEvent, RuleDecision  # noqa: E402,F401  the rules, their own module
