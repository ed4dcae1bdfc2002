"""Reads of product reviews: the merchant's filtered feed, one review of the caller's shops, a shop's 30-day score."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersale.constants import BAD_REVIEW_MAX_RATING
from aftersale.models import ProductReview
from shop_admin.kernel.api import feed_cursor_decode, feed_cursor_encode
from shop_admin.kernel.errors import NotFound

SCORE_DAYS = 30


@dataclass(frozen=True)
class ReviewFilters:
    rating_max: int | None = None
    rating: int | None = None  # exactly this many stars (the console's tabs)
    with_images: bool | None = None
    replied: bool | None = None
    sku_id: int | None = None
    sku_code: str = ""
    review_id: int | None = None  # one review: the bell's link
    created_from: date | None = None
    created_to: date | None = None


def _shop_day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def shop_reviews(*, shop_ids: set[int]) -> QuerySet[ProductReview]:
    return ProductReview.objects.filter(shop_id__in=shop_ids).select_related("order", "sku", "product", "report")


def review_feed(
    *, shop_ids: set[int], filters: ReviewFilters, cursor: str | None, limit: int
) -> tuple[list[ProductReview], str | None]:
    """The shops' reviews (hidden ones too: the merchant sees what the platform decided), newest first, keyset-paginated."""
    qs = shop_reviews(shop_ids=shop_ids)
    if filters.rating_max is not None:
        qs = qs.filter(rating__lte=filters.rating_max)
    if filters.rating is not None:
        qs = qs.filter(rating=filters.rating)
    if filters.with_images is not None:
        qs = qs.filter(has_images=filters.with_images)
    if filters.replied is not None:
        qs = qs.filter(replied_at__isnull=not filters.replied)
    if filters.sku_id is not None:
        qs = qs.filter(sku_id=filters.sku_id)
    if filters.sku_code:
        qs = qs.filter(sku__code=filters.sku_code)
    if filters.review_id is not None:
        qs = qs.filter(pk=filters.review_id)
    if filters.created_from:
        qs = qs.filter(created_at__gte=_shop_day_start(filters.created_from))
    if filters.created_to:
        qs = qs.filter(created_at__lt=_shop_day_start(filters.created_to + timedelta(days=1)))
    if cursor:
        moment, pk = feed_cursor_decode(cursor)
        qs = qs.filter(Q(created_at__lte=moment), Q(created_at__lt=moment) | Q(created_at=moment, pk__lt=pk))
    page = list(qs.order_by("-created_at", "-pk")[: limit + 1])
    next_cursor = feed_cursor_encode(page[limit - 1].created_at, page[limit - 1].pk) if len(page) > limit else None
    return page[:limit], next_cursor


def review_get_for_shops(*, shop_ids: set[int], review_id: int) -> ProductReview:
    """A review of one of these shops; another shop's does not exist for the caller (404)."""
    review = shop_reviews(shop_ids=shop_ids).filter(pk=review_id).first()
    if review is None:
        raise NotFound(_("评价不存在"), code="review_not_found")
    return review


def shop_review_score(*, shop_id: int, now: datetime | None = None) -> dict:
    """The shop's score and bad-review rate over the last 30 days, counted reviews only (hidden ones left out)."""
    since = (now or timezone.now()) - timedelta(days=SCORE_DAYS)
    figures = ProductReview.objects.filter(shop_id=shop_id, created_at__gte=since, hidden_at__isnull=True).aggregate(
        total=Count("pk"), bad=Count("pk", filter=Q(rating__lte=BAD_REVIEW_MAX_RATING)), score=Avg("rating")
    )
    total = figures["total"]
    return {
        "total": total,
        "bad": figures["bad"],
        "score": round(figures["score"], 1) if figures["score"] is not None else None,
        "bad_rate": round(figures["bad"] * 100 / total, 1) if total else None,
    }


def bad_reviews_unanswered(*, shop_id: int, now: datetime | None = None) -> QuerySet[ProductReview]:
    """Bad reviews (only they get a reply deadline) the shop has not answered, still shown: the tile and the bell."""
    return ProductReview.objects.filter(
        shop_id=shop_id, reply_deadline__isnull=False, replied_at__isnull=True, hidden_at__isnull=True
    )


def bad_reviews_by_deadline(*, shop_id: int) -> QuerySet:
    return bad_reviews_unanswered(shop_id=shop_id).order_by("reply_deadline").values_list("reply_deadline", flat=True)
