"""Product reviews (评价) and a merchant's report of one (评价申诉): their own concept, beside the after-sale case."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from aftersale.constants import ReportReason, ReportStatus
from orders.models import Buyer, Order, OrderLine, Product, Sku
from shop_admin.kernel.models import Shop


class ProductReview(models.Model):
    """A buyer's review (评价) of one order line: once per line, with at most one follow-up and one merchant reply."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="+")
    line = models.OneToOneField(OrderLine, on_delete=models.PROTECT, related_name="+")
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    rating = models.PositiveSmallIntegerField(_("评分"))
    text = models.CharField(_("评价内容"), max_length=500, blank=True)
    images = models.JSONField(_("图片"), default=list, blank=True)
    has_images = models.BooleanField(default=False)  # the list's "with images" filter, without a JSON scan
    # Per order, asked once with the first reviews; kept on each review of that submission.
    logistics_rating = models.PositiveSmallIntegerField(_("物流评分"), null=True, blank=True)
    service_rating = models.PositiveSmallIntegerField(_("服务评分"), null=True, blank=True)
    follow_up_text = models.CharField(_("追评"), max_length=500, blank=True)
    follow_up_at = models.DateTimeField(_("追评时间"), null=True, blank=True)
    reply_text = models.CharField(_("商家回复"), max_length=500, blank=True)
    replied_at = models.DateTimeField(_("回复时间"), null=True, blank=True)
    replied_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Only a bad review has one: the shop answers it by then (the bell shows it).
    reply_deadline = models.DateTimeField(_("回复截止"), null=True, blank=True)
    hidden_at = models.DateTimeField(_("隐藏时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("评价时间"), default=timezone.now)  # the service gives its `now`: the reply deadline counts from it

    class Meta:
        verbose_name = _("商品评价")
        verbose_name_plural = _("商品评价")
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"),
        ]
        indexes = [
            models.Index(fields=["shop", "-created_at", "-id"], name="review_shop_created"),
            models.Index(fields=["shop", "reply_deadline", "id"], name="review_shop_reply_due", condition=Q(replied_at__isnull=True, reply_deadline__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.rating}★"

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class ReviewReport(ConcurrentTransitionMixin, models.Model):
    """A merchant's report of a review (评价申诉); platform staff keep or hide the review in the admin."""

    review = models.OneToOneField(ProductReview, on_delete=models.PROTECT, related_name="report")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("申诉原因"), max_length=20, choices=ReportReason.choices)
    description = models.CharField(_("申诉说明"), max_length=500, blank=True)
    evidence = models.JSONField(_("凭证"), default=list, blank=True)
    status = FSMField(_("状态"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.PENDING, protected=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    decision_note = models.CharField(_("处理说明"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("申诉时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("评价申诉")
        verbose_name_plural = _("评价申诉")
        permissions = [("decide_reviewreport", _("处理评价申诉"))]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_reason_display()}"

    @transition(field=status, source=ReportStatus.PENDING, target=ReportStatus.KEPT)
    def keep(self) -> None:
        pass

    @transition(field=status, source=ReportStatus.PENDING, target=ReportStatus.HIDDEN)
    def hide(self) -> None:
        pass
