"""Each shop's orders per day (shop time): counted live, or read from the stored daily rollup.

The dashboard's 30-day trend grouped every order of the last 30 days by day, a month of a big
shop's orders read whenever the cache was cold (tests/perf/README.md). Past days
hardly change, so `order_day_stats_refresh` (a cron job next to the deadline sweep) keeps one
`OrderDayStat` row per shop and past day, recounting only the days whose orders changed since
its last run (a late payment, a refund). The trend reads those rows and counts live only
today and any day the refresh has not written yet, so without the job it shows what it
always showed.
"""
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from orders.constants import OrderStatus
from orders.models import Order, OrderDayStat
from shop_admin.kernel import rawsql
from shop_admin.kernel.models import Shop

FIELDS = ("orders", "gmv", "paid_orders", "refunded")
TREND_DAYS = 30  # the days the dashboard shows; the refresh keeps the past ones of them
# Orders changed just before a refresh may commit after it read them: look back this far past its start.
REFRESH_OVERLAP = timedelta(minutes=5)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def order_day_rows(*, shop_id: int, start: date, end: date) -> dict[date, dict]:
    """Counted live: per day from start to end (inclusive) with orders, their count, GMV paid, paid and closed ones."""
    orders = Order.objects.filter(
        shop_id=shop_id, created_at__gte=_day_start(start), created_at__lt=_day_start(end + timedelta(days=1))
    )
    sums = {
        "orders": Count("pk"),
        "gmv": Sum("paid_amount"),
        "paid_orders": Count("pk", filter=Q(paid_at__isnull=False)),
        "refunded": Count("pk", filter=Q(status=OrderStatus.CLOSED)),
    }
    if start == end:
        # One day (the dashboard's today): a plain aggregate, without converting and hashing every order's local day.
        row = orders.aggregate(**sums)
        return {start: row} if row["orders"] else {}
    rows = (
        orders.annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone())).values("day").annotate(**sums).order_by()
    )
    return {row["day"]: {k: v for k, v in row.items() if k != "day"} for row in rows}


def order_day_stats(*, shop_id: int, start: date, end: date) -> dict[date, dict]:
    """Per day from start to end: the stored rollup where the refresh wrote it, counted live where it has not."""
    stored = {
        row["day"]: {k: v for k, v in row.items() if k != "day"}
        for row in OrderDayStat.objects.filter(shop_id=shop_id, day__gte=start, day__lte=end).values("day", *FIELDS)
    }
    missing = [start + timedelta(days=n) for n in range((end - start).days + 1) if start + timedelta(days=n) not in stored]
    if missing:
        live = order_day_rows(shop_id=shop_id, start=min(missing), end=max(missing))
        stored.update({day: live[day] for day in missing if day in live})
    return stored


def _paid_per_day(*, shop_id: int, start: date, end: date) -> dict[date, int]:
    rows = (
        Order.objects.filter(shop_id=shop_id, paid_at__gte=_day_start(start), paid_at__lt=_day_start(end + timedelta(days=1)))
        .annotate(day=TruncDate("paid_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["day"]: row["n"] for row in rows}


def orders_paid_since(*, shop_id: int, since: datetime, now: datetime) -> int:
    """How many of the shop's orders were paid from `since` to now: whole past days from the rollup, the rest counted live.

    Counting 30 days of a big shop's payments live reads a month of index entries; the two partial days
    (since's own day and today) are a day's worth each. Exactly what counting live gives when the rollup is current.
    """
    first_full = timezone.localdate(since) + timedelta(days=1)
    today = timezone.localdate(now)
    paid = Order.objects.filter(shop_id=shop_id)
    if first_full >= today:
        return paid.filter(paid_at__gte=since).count()
    stored = OrderDayStat.objects.filter(shop_id=shop_id, day__gte=first_full, day__lt=today)
    # The rollup's days and their sum, and the two partial days counted live, in one statement.
    days, stored_paid, partial, today_paid = rawsql.one_statement(
        ("count", stored),
        ("first", stored.values("shop_id").annotate(paid=Sum("paid_on_day")).values("paid")),
        ("count", paid.filter(paid_at__gte=since, paid_at__lt=_day_start(first_full))),
        ("count", paid.filter(paid_at__gte=_day_start(today))),
    )
    if days < (today - first_full).days:
        return paid.filter(paid_at__gte=since).count()  # the rollup lacks a day: count live, as before
    return partial + (stored_paid or 0) + today_paid


def order_day_stats_refresh(*, now: datetime) -> int:
    """Write the rollup of every shop's past days (up to TREND_DAYS back) that are missing or whose orders changed; the count of rows written."""
    today = timezone.localdate(now)
    first = today - timedelta(days=TREND_DAYS - 1)
    past = {first + timedelta(days=n) for n in range(TREND_DAYS - 1)}
    tz = timezone.get_current_timezone()
    written = 0
    for shop_id in Shop.objects.order_by("pk").values_list("pk", flat=True):
        stored = OrderDayStat.objects.filter(shop_id=shop_id, day__gte=first, day__lt=today)
        due = past - set(stored.values_list("day", flat=True))
        last = stored.aggregate(last=Max("refreshed_at"))["last"]
        if last is not None:
            # The shop's orders changed since (one range of the shop's updated_at index), by the day they were placed.
            changed = Order.objects.filter(shop_id=shop_id, updated_at__gte=last - REFRESH_OVERLAP).annotate(
                placed=TruncDate("created_at", tzinfo=tz), paid=TruncDate("paid_at", tzinfo=tz)
            )
            for placed, paid in changed.values_list("placed", "paid").distinct():
                due |= {placed, paid} & past
        if not due:
            continue
        with transaction.atomic():
            counted = order_day_rows(shop_id=shop_id, start=min(due), end=max(due))
            paid_on = _paid_per_day(shop_id=shop_id, start=min(due), end=max(due))
            rows = []
            for day in sorted(due):
                row = counted.get(day, {})
                rows.append(OrderDayStat(
                    shop_id=shop_id, day=day, refreshed_at=now, orders=row.get("orders", 0), gmv=row.get("gmv") or Decimal("0.00"),
                    paid_orders=row.get("paid_orders", 0), refunded=row.get("refunded", 0), paid_on_day=paid_on.get(day, 0),
                ))
            OrderDayStat.objects.bulk_create(
                rows, update_conflicts=True, unique_fields=["shop", "day"], update_fields=[*FIELDS, "paid_on_day", "refreshed_at"]
            )
            # Days older than the dashboard shows are not read again.
            OrderDayStat.objects.filter(shop_id=shop_id, day__lt=first).delete()
        written += len(rows)
    return written


def order_day_stats_refresh_job() -> int:
    """The cron job (shop_admin/cron.py)."""
    return order_day_stats_refresh(now=timezone.now())
