"""Reads of after-sale cases for the dashboard and the order pages."""
from datetime import date, datetime, time, timedelta

from django.db.models import Case, Count, IntegerField, Min, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from aftersale.constants import AWAITING_MERCHANT
from aftersale.models import AfterSaleCase


def aftersale_awaiting_merchant(*, shop_id: int, cap: int) -> tuple[int, datetime | None]:
    """Cases the merchant must answer (capped count) and the nearest of their deadlines."""
    waiting = AfterSaleCase.objects.filter(shop_id=shop_id, status__in=AWAITING_MERCHANT)
    count = waiting.values("pk")[: cap + 1].count()
    nearest = waiting.aggregate(nearest=Min("reply_deadline"))["nearest"]
    return count, nearest


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
