"""Reads of the shop's coupon campaigns: the list by status with issued / used / cost, one coupon, its figures per day."""
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, DecimalField, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import Coupon, CouponClaim, CouponRedemption
from shop_admin.kernel.api import feed_cursor_decode, feed_cursor_encode
from shop_admin.kernel.errors import NotFound

# The status a merchant sees: the campaign's state and where now falls in its window.
COUPON_STATUSES = {
    "upcoming": _("未开始"),
    "active": _("进行中"),
    "ended": _("已结束"),
    "expired": _("已过期"),
}


def coupon_status(coupon: Coupon, *, now: datetime) -> str:
    if coupon.state == Coupon.State.ENDED:
        return "ended"
    if now >= coupon.valid_to:
        return "expired"
    return "upcoming" if now < coupon.valid_from else "active"


def _status_filter(status: str, now: datetime) -> Q:
    running = Q(state=Coupon.State.ACTIVE)
    return {
        "ended": Q(state=Coupon.State.ENDED),
        "expired": running & Q(valid_to__lte=now),
        "upcoming": running & Q(valid_from__gt=now),
        "active": running & Q(valid_from__lte=now, valid_to__gt=now),
    }[status]


def _with_figures(qs: QuerySet) -> QuerySet:
    """`used` and `discount_total`: what live orders redeemed (an order cancelled gives its coupon back)."""
    redeemed = CouponRedemption.objects.filter(coupon=OuterRef("pk"), released_at__isnull=True).values("coupon")
    return qs.annotate(
        used=Coalesce(Subquery(redeemed.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), 0),
        discount_total=Coalesce(
            Subquery(redeemed.annotate(s=Sum("amount")).values("s"), output_field=DecimalField(max_digits=14, decimal_places=2)),
            Decimal("0.00"),
        ),
    )


def shop_coupons(*, shop_ids: set[int]) -> QuerySet:
    return Coupon.objects.filter(shop_id__in=shop_ids, kind=Coupon.Kind.SHOP)


def coupon_feed(
    *, shop_ids: set[int], status: str | None, cursor: str | None, limit: int, now: datetime | None = None
) -> tuple[list[Coupon], str | None]:
    """The shops' campaigns, newest first, keyset-paginated on (created_at, id), each with its figures."""
    now = now or timezone.now()
    qs = shop_coupons(shop_ids=shop_ids)
    if status:
        qs = qs.filter(_status_filter(status, now))
    if cursor:
        moment, pk = feed_cursor_decode(cursor)
        qs = qs.filter(Q(created_at__lte=moment), Q(created_at__lt=moment) | Q(created_at=moment, pk__lt=pk))
    page = list(_with_figures(qs).order_by("-created_at", "-pk")[: limit + 1])
    next_cursor = feed_cursor_encode(page[limit - 1].created_at, page[limit - 1].pk) if len(page) > limit else None
    return page[:limit], next_cursor


def coupon_status_counts(*, shop_id: int, now: datetime) -> dict[str, int]:
    qs = shop_coupons(shop_ids={shop_id})
    return qs.aggregate(**{status: Count("pk", filter=_status_filter(status, now)) for status in COUPON_STATUSES})


def coupon_get_for_shops(*, shop_ids: set[int], coupon_id: int) -> Coupon:
    """One campaign of these shops with its figures; another shop's is not found (404), whoever asks."""
    coupon = _with_figures(shop_coupons(shop_ids=shop_ids).filter(pk=coupon_id)).prefetch_related("skus__product").first()
    if coupon is None:
        raise NotFound(_("优惠券不存在"), code="coupon_not_found")
    return coupon


def coupon_daily_stats(*, coupon: Coupon) -> list[dict]:
    """Per shop-time day: coupons claimed (`issued`), used by live orders and the discount they cost, oldest first."""
    zone = ZoneInfo(settings.TIME_ZONE)
    days: dict[date, dict] = {}

    def day(value: date) -> dict:
        return days.setdefault(value, {"day": value, "issued": 0, "used": 0, "discount": Decimal("0.00")})

    claims = (
        CouponClaim.objects.filter(coupon=coupon)
        .annotate(day=TruncDate("claimed_at", tzinfo=zone))
        .values("day")
        .annotate(n=Count("pk"))
    )
    for row in claims:
        day(row["day"])["issued"] = row["n"]
    uses = (
        CouponRedemption.objects.filter(coupon=coupon, released_at__isnull=True)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day")
        .annotate(n=Count("pk"), s=Sum("amount"))
    )
    for row in uses:
        figures = day(row["day"])
        figures["used"], figures["discount"] = row["n"], row["s"]
    return [days[d] for d in sorted(days)]
