"""Route statistics from the shop's own history (p50/p95 of transit and of the longest scan gap), and the delivery
alert that waits for a route's p95 transit instead of the 5-day default once the route has enough history."""
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from logistics.models import RouteStat, Shipment
from logistics.sql import route_stats_refresh
from orders.constants import ExceptionKind
from orders.models import OrderException
from shop_admin.kernel.deadlines import deadlines_sweep
from tests.factories import make_buyer, make_shop
from tests.logistics.conftest import TRACKING_NO
from tests.logistics.route_history import delivered_route, parcel


def hours(value: timedelta) -> float:
    return value.total_seconds() / 3600


def test_p50_and_p95_of_transit_and_largest_gap_per_route_are_exact(shop, buyer):
    now = timezone.now()
    # given 20 parcels signed after 10..29 h, each scanned 1 h after shipping (largest gap 9..28 h)
    delivered_route(shop=shop, buyer=buyer, now=now, origin="浙江省", destination="广东省")
    # a scan after signing and a parcel still on the road change nothing
    late = parcel(shop=shop, buyer=buyer, shipped_at=now - timedelta(days=9), scans_after=[1], signed_after=12, destination="广东省")
    late_scan = late.shipped_at + timedelta(hours=200)
    late.events.create(order_id=late.order_id, code="in_transit", occurred_at=late_scan, dedupe_key="after")
    parcel(shop=shop, buyer=buyer, shipped_at=now - timedelta(days=2), scans_after=[1], signed_after=None, destination="广东省")
    # another route, another carrier, another shop
    delivered_route(shop=shop, buyer=buyer, now=now, count=3, first_transit=40, origin="浙江省", destination="新疆维吾尔自治区")
    delivered_route(shop=shop, buyer=buyer, now=now, count=2, first_transit=50, carrier="ZTO", origin="浙江省", destination="广东省")
    other = make_shop("隔壁店")
    delivered_route(shop=other, buyer=make_buyer(), now=now, count=4, first_transit=100, origin="浙江省", destination="广东省")

    written = route_stats_refresh(now=now)

    assert written == 4
    guangdong = RouteStat.objects.get(shop=shop, carrier="SF", origin_province="浙江省", destination_province="广东省")
    # 21 parcels: 10..29 h plus the 12 h one (its gap 11 h); percentile_cont interpolates between ranks
    transit = sorted([*range(10, 30), 12])
    gaps = sorted([*range(9, 29), 11])
    assert guangdong.delivered == 21
    assert hours(guangdong.transit_p50) == transit[10] == 19
    assert round(hours(guangdong.transit_p95), 6) == transit[19] == 28
    assert hours(guangdong.idle_p50) == gaps[10] == 18
    assert round(hours(guangdong.idle_p95), 6) == gaps[19] == 27
    xinjiang = RouteStat.objects.get(shop=shop, destination_province="新疆维吾尔自治区")
    assert (xinjiang.delivered, hours(xinjiang.transit_p50), round(hours(xinjiang.transit_p95), 6)) == (3, 41, 41.9)
    assert RouteStat.objects.get(shop=shop, carrier="ZTO").delivered == 2
    assert RouteStat.objects.get(shop=other).delivered == 4


def test_interpolated_p95_between_two_ranks(shop, buyer):
    now = timezone.now()
    delivered_route(shop=shop, buyer=buyer, now=now, count=20, destination="广东省")  # 10..29 h

    route_stats_refresh(now=now)

    stat = RouteStat.objects.get(shop=shop)
    # rank 0.95 * 19 = 18.05: 27 h + 0.05 h
    assert (hours(stat.transit_p50), round(hours(stat.transit_p95), 6)) == (19.5, 28.05)
    assert (hours(stat.idle_p50), round(hours(stat.idle_p95), 6)) == (18.5, 27.05)


def test_parcels_signed_before_the_window_and_routes_gone_from_it_drop_out(shop, buyer, settings):
    now = timezone.now()
    delivered_route(shop=shop, buyer=buyer, now=now, count=3, destination="广东省")
    route_stats_refresh(now=now)
    assert RouteStat.objects.filter(shop=shop).count() == 1

    route_stats_refresh(now=now + settings.LOGISTICS_ROUTE_STATS_WINDOW)

    assert not RouteStat.objects.filter(shop=shop).exists()


def test_the_command_runs_it_now_for_one_shop(shop, buyer, capsys):
    delivered_route(shop=shop, buyer=buyer, now=timezone.now(), count=20, destination="广东省")

    call_command("route_stats", "--shop", str(shop.pk))

    assert "1 routes computed, 1 with enough history" in capsys.readouterr().out
    assert RouteStat.objects.get(shop=shop).delivered == 20


def test_a_parcel_records_its_route_when_it_ships(shipped):
    shipment = Shipment.objects.get(tracking_no=TRACKING_NO)

    # the shipping warehouse (杭州仓) and the buyer's province
    assert (shipment.origin_province, shipment.destination_province) == ("浙江省", "浙江省")


def test_delivery_overdue_waits_for_the_routes_p95_transit_when_the_route_has_history(shipped, shop, buyer):
    delivered_route(shop=shop, buyer=buyer, now=timezone.now(), count=20, destination="浙江省")  # p95 28.05 h
    route_stats_refresh(now=timezone.now())
    shipped_at = Shipment.objects.get(tracking_no=TRACKING_NO).shipped_at

    assert deadlines_sweep(now=shipped_at + timedelta(hours=28))["shipment_delivery_timeout"] == 0
    assert deadlines_sweep(now=shipped_at + timedelta(hours=28, minutes=4))["shipment_delivery_timeout"] == 1
    assert OrderException.objects.filter(order__order_no=shipped["order_no"], kind=ExceptionKind.DELIVERY_OVERDUE).exists()


def test_a_route_with_too_little_history_keeps_the_5_day_default(shipped, shop, buyer):
    delivered_route(shop=shop, buyer=buyer, now=timezone.now(), count=19, destination="浙江省")
    route_stats_refresh(now=timezone.now())
    shipped_at = Shipment.objects.get(tracking_no=TRACKING_NO).shipped_at

    assert deadlines_sweep(now=shipped_at + timedelta(days=4, hours=23))["shipment_delivery_timeout"] == 0
    assert deadlines_sweep(now=shipped_at + timedelta(days=5))["shipment_delivery_timeout"] == 1


def test_another_shops_history_on_the_same_route_does_not_count(shipped):
    other = make_shop("隔壁店")
    delivered_route(shop=other, buyer=make_buyer(), now=timezone.now(), count=20, destination="浙江省")
    route_stats_refresh(now=timezone.now())
    shipped_at = Shipment.objects.get(tracking_no=TRACKING_NO).shipped_at

    assert deadlines_sweep(now=shipped_at + timedelta(days=2))["shipment_delivery_timeout"] == 0
