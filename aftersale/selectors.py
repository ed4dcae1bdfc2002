"""Reads of after-sale cases for the dashboard and the order pages."""
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db.models import Case, Count, IntegerField, Min, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from aftersale.constants import AWAITING_MERCHANT
from aftersale.models import AfterSaleCase
from shop_admin.kernel.console import DASHBOARD_COUNT_CAP


def aftersale_awaiting_merchant_count(*, shop_id: int, now: datetime, cap: int = DASHBOARD_COUNT_CAP) -> int:
    """Cases the merchant must answer, counted up to cap + 1."""
    return AfterSaleCase.objects.filter(shop_id=shop_id, status__in=AWAITING_MERCHANT).values("pk")[: cap + 1].count()


def aftersale_awaiting_merchant_nearest(*, shop_id: int) -> datetime | None:
    """The nearest reply deadline of the cases the merchant must answer."""
    waiting = AfterSaleCase.objects.filter(shop_id=shop_id, status__in=AWAITING_MERCHANT)
    return waiting.aggregate(nearest=Min("reply_deadline"))["nearest"]


def aftersale_daily_counts(*, shop_id: int, start: date, end: date) -> dict[date, int]:
    """Cases opened per local day, start to end inclusive."""
    tz = timezone.get_current_timezone()
    rows = (
        AfterSaleCase.objects.filter(
            shop_id=shop_id,
            created_at__gte=timezone.make_aware(datetime.combine(start, time.min)),
            created_at__lt=timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min)),
        )
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["day"]: row["n"] for row in rows}


def aftersale_list(*, shop_id: int, status: str | None, limit: int = 200) -> list[AfterSaleCase]:
    """The shop's cases, the ones the merchant owes an answer first, nearest deadline first."""
    qs = AfterSaleCase.objects.filter(shop_id=shop_id).select_related("order")
    if status:
        qs = qs.filter(status=status)
    waiting = Case(When(status__in=AWAITING_MERCHANT, then=Value(0)), default=Value(1), output_field=IntegerField())
    return list(qs.annotate(waiting=waiting).order_by("waiting", "reply_deadline", "-pk")[:limit])


def cases_by_order(order_ids: list[int]) -> dict[int, list[AfterSaleCase]]:
    """The after-sale cases of these orders, oldest first, in one query."""
    by_order: dict[int, list[AfterSaleCase]] = defaultdict(list)
    for case in AfterSaleCase.objects.filter(order_id__in=order_ids).order_by("created_at", "pk"):
        by_order[case.order_id].append(case)
    return by_order
