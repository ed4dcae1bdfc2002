"""Product reviews (评价): the buyer reviews and follows up, the merchant replies and reports, the platform keeps or hides.

Every action locks its row (the order for a buyer's review, the review or report otherwise), writes the change and
its event on the order's timeline in one transaction; a review counted or hidden moves the product's score in the
same transaction (`product_rating_count`).
"""
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersale.constants import BAD_REVIEW_MAX_RATING, ReportReason, ReportStatus
from aftersale.events import (
    review_created_event,
    review_decided_event,
    review_followed_up_event,
    review_replied_event,
    review_reported_event,
)
from aftersale.models import ProductReview, ReviewReport
from orders.constants import OrderStatus
from orders.models import Order
from orders.services.common import order_lock
from orders.services.exceptions import evidence_clean
from orders.services.products import product_rating_count
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.errors import Conflict, Invalid, NotFound
from shop_admin.kernel.shoprules import shop_rule

REVIEWABLE = {OrderStatus.DELIVERED, OrderStatus.COMPLETED}  # received: signed for, or confirmed
TEXT_MAX = 500


@dataclass(frozen=True)
class LineReview:
    sku_id: int
    rating: int
    text: str = ""
    images: list[str] = field(default_factory=list)


def _rating_error(value) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        return _("评分须为1到5的整数")
    return None


def _text_error(text: str, *, required: bool) -> str | None:
    if required and not text.strip():
        return _("不能为空")
    if len(text) > TEXT_MAX:
        return _("最多%(n)d个字") % {"n": TEXT_MAX}
    return None


def _urls(urls: list[str], *, field_name: str, errors: dict) -> list[str]:
    """http(s) links (the one evidence check), at most `REVIEW_IMAGES_MAX`; a bad one is a field error."""
    try:
        cleaned = evidence_clean(urls, field=field_name)
    except Invalid as exc:
        errors.update(exc.details.get("fields") or {field_name: exc.message})
        return []
    if len(cleaned) > settings.REVIEW_IMAGES_MAX:
        errors[field_name] = _("最多%(n)d张图片") % {"n": settings.REVIEW_IMAGES_MAX}
    return cleaned


def review_window_end(order: Order):
    """Until when the order's lines can be reviewed; None while the order is received but not yet completed."""
    return order.completed_at + settings.REVIEW_WINDOW if order.completed_at else None


def reviews_create(
    *, order: Order, actor: Actor, items: list[LineReview], logistics_rating: int | None = None,
    service_rating: int | None = None, now=None,
) -> list[ProductReview]:
    """The buyer reviews some lines of a received order, once each; logistics and service are rated per order."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    if not items:
        errors["items"] = _("至少评价一件商品")
    for name, value in (("logistics_rating", logistics_rating), ("service_rating", service_rating)):
        if value is not None and (problem := _rating_error(value)):
            errors[name] = problem
    with transaction.atomic():
        order = order_lock(order.pk)
        if order.status not in REVIEWABLE:
            raise Invalid(
                _("订单状态为「%(status)s」，确认收货后才能评价") % {"status": order.get_status_display()},
                code="not_reviewable", details={"status": order.status},
            )
        window_end = review_window_end(order)
        if window_end and now > window_end:
            raise Invalid(
                _("已超过评价期限（交易完成后%(days)d天内）") % {"days": settings.REVIEW_WINDOW.days},
                code="review_window_passed", details={"deadline": window_end.isoformat()},
            )
        lines = {}
        for line in order.lines.select_related("sku").order_by("pk"):
            lines.setdefault(line.sku_id, line)
        wanted, seen = [], set()
        for index, item in enumerate(items):
            prefix = f"items.{index}"
            line = lines.get(item.sku_id)
            if line is None:
                errors[f"{prefix}.sku_id"] = _("订单中没有该商品（sku_id %(id)s）") % {"id": item.sku_id}
            elif item.sku_id in seen:
                errors[f"{prefix}.sku_id"] = _("同一商品只能出现一次")
            seen.add(item.sku_id)
            if problem := _rating_error(item.rating):
                errors[f"{prefix}.rating"] = problem
            if problem := _text_error(item.text, required=False):
                errors[f"{prefix}.text"] = problem
            images = _urls(item.images, field_name=f"{prefix}.images", errors=errors)
            if line is not None:
                wanted.append((line, item, images))
        if errors:
            raise Invalid(_("评价内容有误"), code="invalid_input", details={"fields": errors})
        reviewed = set(ProductReview.objects.filter(line__in=[line for line, _item, _images in wanted]).values_list("line_id", flat=True))
        if reviewed:
            names = [line.product_name for line, _item, _images in wanted if line.pk in reviewed]
            raise Conflict(
                _("已评价过：%(names)s") % {"names": _("、").join(names)}, code="already_reviewed",
                details={"sku_ids": [line.sku_id for line, _item, _images in wanted if line.pk in reviewed]},
            )
        created = []
        reply_within = shop_rule(order.shop_id, "review_reply")  # the shop's own window (shop settings)
        for line, item, images in wanted:
            review = ProductReview.objects.create(
                shop_id=order.shop_id, order=order, line=line, buyer_id=order.buyer_id, product_id=line.sku.product_id,
                sku_id=line.sku_id, rating=item.rating, text=item.text.strip(), images=images, has_images=bool(images),
                logistics_rating=logistics_rating, service_rating=service_rating, created_at=now,
                reply_deadline=now + reply_within if item.rating <= BAD_REVIEW_MAX_RATING else None,
            )
            product_rating_count(product_id=review.product_id, rating=review.rating, counted=True)
            review_created_event(review=review, actor=actor)
            created.append(review)
    return created


def review_follow_up(*, order: Order, actor: Actor, sku_id: int, text: str, now=None) -> ProductReview:
    """The buyer's one follow-up (追评) on a line reviewed before, within `REVIEW_FOLLOW_UP_WINDOW` of completion."""
    now = now or timezone.now()
    if problem := _text_error(text, required=True):
        raise Invalid(_("追评内容有误"), code="invalid_input", details={"fields": {"text": problem}})
    with transaction.atomic():
        order = order_lock(order.pk)
        review = ProductReview.objects.select_for_update().filter(order=order, sku_id=sku_id).first()
        if review is None:
            raise NotFound(
                _("该商品还没有评价，不能追评"), code="review_not_found", details={"fields": {"sku_id": _("该商品还没有评价")}}
            )
        if review.follow_up_at:
            raise Conflict(_("每件商品只能追评一次"), code="already_followed_up")
        start = order.completed_at or review.created_at
        if now > start + settings.REVIEW_FOLLOW_UP_WINDOW:
            raise Invalid(
                _("已超过追评期限（%(days)d天内）") % {"days": settings.REVIEW_FOLLOW_UP_WINDOW.days},
                code="follow_up_window_passed",
            )
        review.follow_up_text = text.strip()
        review.follow_up_at = now
        review.save(update_fields=["follow_up_text", "follow_up_at"])
        review_followed_up_event(review=review, actor=actor)
    return review


def _review_lock(review: ProductReview) -> ProductReview:
    return ProductReview.objects.select_for_update().select_related("order").get(pk=review.pk)


def review_reply(*, review: ProductReview, actor: Actor, text: str, now=None) -> ProductReview:
    """The shop's one answer to a review; it ends a bad review's to-do."""
    if problem := _text_error(text, required=True):
        raise Invalid(_("回复内容有误"), code="invalid_input", details={"fields": {"text": problem}})
    with transaction.atomic():
        review = _review_lock(review)
        if review.replied_at:
            raise Conflict(_("该评价已回复，每条评价只能回复一次"), code="already_replied")
        review.reply_text = text.strip()
        review.replied_at = now or timezone.now()
        review.replied_by = actor.user
        review.save(update_fields=["reply_text", "replied_at", "replied_by"])
        review_replied_event(review=review, actor=actor)
    return review


def review_report(
    *, review: ProductReview, actor: Actor, reason: str, description: str = "", evidence: list[str] | None = None
) -> ReviewReport:
    """The shop asks the platform to hide a review (评价申诉): abusive, advertising, irrelevant or extortion, with evidence."""
    errors: dict[str, str] = {}
    if reason not in ReportReason.values:
        errors["reason"] = _("请选择申诉原因")
    if problem := _text_error(description, required=False):
        errors["description"] = problem
    evidence = _urls(evidence or [], field_name="evidence", errors=errors)
    if errors:
        raise Invalid(_("申诉内容有误"), code="invalid_input", details={"fields": errors})
    with transaction.atomic():
        review = _review_lock(review)
        if ReviewReport.objects.filter(review=review).exists():
            raise Conflict(_("该评价已申诉过"), code="already_reported")
        report = ReviewReport.objects.create(
            review=review, shop_id=review.shop_id, reason=reason, description=description.strip(), evidence=evidence,
            reported_by=actor.user,
        )
        review_reported_event(report=report, actor=actor)
    return report


def review_report_decide(*, report: ReviewReport, actor: Actor, hide: bool, note: str = "", now=None) -> ReviewReport:
    """The platform keeps the review or hides it; a hidden review leaves the product's score."""
    now = now or timezone.now()
    with transaction.atomic():
        try:
            report = ReviewReport.objects.select_for_update().get(pk=report.pk)
        except ReviewReport.DoesNotExist:
            raise NotFound(_("申诉不存在"), code="report_not_found") from None
        if report.status != ReportStatus.PENDING:
            raise Conflict(
                _("该申诉已处理：%(status)s") % {"status": report.get_status_display()}, code="already_decided"
            )
        review = _review_lock(report.review)
        report.review = review
        if hide:
            report.hide()
        else:
            report.keep()
        report.decided_by = actor.user
        report.decided_at = now
        report.decision_note = note.strip()[:300]
        report.save()
        if hide and review.hidden_at is None:
            review.hidden_at = now
            review.save(update_fields=["hidden_at"])
            product_rating_count(product_id=review.product_id, rating=review.rating, counted=False)
        review_decided_event(report=report, actor=actor)
    return report
