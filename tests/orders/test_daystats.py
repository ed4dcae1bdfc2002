"""The dashboard trend's daily rollup: the same figures as counting live, recounted when a past day's orders change."""
from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone

from orders.constants import OrderStatus
from orders.daystats import order_day_stats_refresh, orders_paid_since
from orders.models import Order, OrderDayStat
from orders.selectors import dashboard_trend


def _place_days_ago(place_order, pay, sku, days_ago: int, *, paid: bool) -> Order:
    body = place_order((sku, 1))
    if paid:
        pay(body["order_no"])
    order = Order.objects.get(order_no=body["order_no"])
    created = timezone.now() - timedelta(days=days_ago)
    moved = {"created_at": created, "updated_at": created} | ({"paid_at": created} if paid else {})
    Order.objects.filter(pk=order.pk).update(**moved)  # placed (and paid) that day: only the clock is moved
    return order


def test_rollup_gives_the_trend_counting_live_gave_and_recounts_a_changed_day(shop, sku, place_order, pay):
    two_days = _place_days_ago(place_order, pay, sku, 2, paid=True)
    _place_days_ago(place_order, pay, sku, 2, paid=False)
    _place_days_ago(place_order, pay, sku, 5, paid=True)
    place_order((sku, 1))  # today: always counted live
    live = dashboard_trend(shop_id=shop.pk)
    assert sum(day["orders"] for day in live) == 4
    assert OrderDayStat.objects.count() == 0

    now = timezone.now()
    assert order_day_stats_refresh(now=now) == 29  # every past day the dashboard shows, empty ones too
    cache.clear()
    assert dashboard_trend(shop_id=shop.pk) == live
    stat = OrderDayStat.objects.get(shop=shop, day=timezone.localdate(now) - timedelta(days=2))
    assert (stat.orders, stat.paid_orders, stat.gmv, stat.refunded) == (2, 1, two_days.payable, 0)

    assert stat.paid_on_day == 1
    for days in (1, 3, 30):  # the after-sale rate's paid orders: the same as counting live
        since = now - timedelta(days=days)
        assert orders_paid_since(shop_id=shop.pk, since=since, now=now) == Order.objects.filter(
            shop=shop, paid_at__gte=since).count()
    assert orders_paid_since(shop_id=shop.pk, since=now - timedelta(days=30), now=now) == 2

    # Nothing changed: nothing is recounted (seconds apart, so that no run crosses midnight in shop time).
    assert order_day_stats_refresh(now=now + timedelta(seconds=10)) == 0

    # A past order is refunded and closed later: the next refresh recounts its day only.
    Order.objects.filter(pk=two_days.pk).update(status=OrderStatus.CLOSED, updated_at=now + timedelta(seconds=20))
    assert order_day_stats_refresh(now=now + timedelta(seconds=30)) == 1
    cache.clear()
    day = (timezone.localdate(now) - timedelta(days=2)).isoformat()
    assert next(d for d in dashboard_trend(shop_id=shop.pk) if d["day"] == day)["refund_rate"] == 100.0


def test_a_shop_sees_only_its_own_days(shop, sku, place_order, pay):
    from tests import factories

    other = factories.make_shop("隔壁店")
    _place_days_ago(place_order, pay, sku, 3, paid=True)
    order_day_stats_refresh(now=timezone.now())
    cache.clear()
    assert sum(day["orders"] for day in dashboard_trend(shop_id=other.pk)) == 0
    assert sum(day["orders"] for day in dashboard_trend(shop_id=shop.pk)) == 1
