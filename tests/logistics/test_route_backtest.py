"""The backtest replays the at-risk rule over history: stalled parcels flagged early (and by how many hours), false
flags on parcels delivered without stalling, with the route figures as they stood at the split."""
from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from logistics.models import RouteStat
from logistics.route_backtest import route_backtest
from tests.logistics.route_history import delivered_route, parcel


def test_a_stall_is_flagged_at_the_routes_p95_gap_and_a_long_but_short_of_72_h_gap_is_a_false_flag(shop, buyer):
    now = timezone.now()
    split = now - timedelta(days=8)
    # history before the split: longest gap p95 27.05 h, transit p95 28.05 h (shipped 10 days ago)
    delivered_route(shop=shop, buyer=buyer, now=now, destination="广东省")
    after = split + timedelta(hours=1)
    # silent 100 h after its 2 h scan, then signed: stalls at 2 + 72 h; flagged at 28.05 h on the road (transit p95),
    # before its silence passes the gap p95 (2 + 27.05 h)
    stalled = dict(scans_after=[2], signed_after=102)
    # a 27.4 h gap (beyond p95, short of 72 h) and signed within 28.05 h of transit: a false flag
    false_flag = dict(scans_after=[0.5], signed_after=27.9)
    on_time = dict(scans_after=[5, 12], signed_after=20)
    for case in (stalled, false_flag, on_time):
        parcel(shop=shop, buyer=buyer, shipped_at=after, destination="广东省", **case)

    result = route_backtest(shop_id=shop.pk, split=split, until=now)

    assert (result.parcels, result.stalled, result.stalled_flagged_early) == (3, 1, 1)
    assert [round(h, 2) for h in result.hours_earlier] == [round(74 - 28.05, 2)]
    assert (result.delivered_without_stall, result.false_flags) == (2, 1)
    assert not RouteStat.objects.filter(shop=shop).exists()  # the replay leaves the shop's stored figures alone


def test_the_command_generates_history_and_prints_the_figures(db):
    out = StringIO()

    call_command("route_backtest", "--generate", "600", stdout=out)

    text = out.getvalue()
    assert "generated 600 parcels" in text
    assert "stalled later (72 h without a scan):" in text and "false flags" in text and "hours earlier" in text
    assert "JT 浙江省 新疆维吾尔自治区: p95 gap" in text
