"""GET /merchant/parcels: each parcel's silence and travel time against its route's p95; `at_risk=1` lists the parcels
on the road beyond either, well before the 72 h stall; a merchant sees only their own shop's parcels."""
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from logistics.sql import route_stats_refresh
from tests.conftest import ApiClient
from tests.factories import make_buyer, make_member, make_shop
from tests.logistics.route_history import delivered_route, parcel


def history(shop, buyer, now):
    """SF 浙江省 -> 广东省 with 20 delivered parcels: transit p95 28.05 h, longest gap p95 27.05 h."""
    delivered_route(shop=shop, buyer=buyer, now=now, destination="广东省")
    route_stats_refresh(now=now)


def test_at_risk_lists_parcels_silent_or_travelling_beyond_their_routes_p95_with_both_numbers(shop, buyer, merchant_api):
    now = timezone.now()
    history(shop, buyer, now)
    # silent 30 h (beyond 27.05), shipped 31 h ago (beyond 28.05 too)
    silent = parcel(shop=shop, buyer=buyer, shipped_at=now - timedelta(hours=31), scans_after=[1], signed_after=None, destination="广东省")
    # scanned 2 h ago but on the road 29 h: beyond the transit p95 only
    slow = parcel(shop=shop, buyer=buyer, shipped_at=now - timedelta(hours=29), scans_after=[1, 27], signed_after=None, destination="广东省")
    # 20 h on the road, scanned 5 h ago: fine
    parcel(shop=shop, buyer=buyer, shipped_at=now - timedelta(hours=20), scans_after=[15], signed_after=None, destination="广东省")
    # a route without history uses the defaults (36 h silent, 120 h on the road): 40 h silent is at risk, 30 h is not
    parcel(shop=shop, buyer=buyer, shipped_at=now - timedelta(hours=30), scans_after=[], signed_after=None, destination="西藏自治区")
    quiet = parcel(shop=shop, buyer=buyer, shipped_at=now - timedelta(hours=40), scans_after=[], signed_after=None, destination="西藏自治区")

    status, body = merchant_api.get("/merchant/parcels?at_risk=1")

    assert status == 200, body
    listed = {p["tracking_no"]: p for p in body["parcels"]}
    assert set(listed) == {silent.tracking_no, slow.tracking_no, quiet.tracking_no}
    first = listed[silent.tracking_no]
    assert (first["idle_hours"], first["route_p95_idle_hours"]) == (30.0, 27.1)
    assert (first["transit_hours"], first["route_p95_transit_hours"]) == (31.0, 28.1)
    assert first["at_risk"] is True and first["route"]["has_history"] is True and first["status"] == "in_transit"
    assert first["order_no"] == silent.order.order_no and first["carrier"] == "SF"
    assert (listed[slow.tracking_no]["idle_hours"], listed[slow.tracking_no]["transit_hours"]) == (2.0, 29.0)
    defaults = listed[quiet.tracking_no]
    assert (defaults["route_p95_idle_hours"], defaults["route_p95_transit_hours"], defaults["route"]["has_history"]) == (36.0, 120.0, False)


def test_the_full_list_shows_signed_parcels_with_their_transit_and_filters_by_carrier_and_status(shop, buyer, merchant_api):
    now = timezone.now()
    parcel(shop=shop, buyer=buyer, shipped_at=now - timedelta(hours=50), scans_after=[2], signed_after=26, destination="广东省")
    moving = parcel(shop=shop, buyer=buyer, shipped_at=now - timedelta(hours=5), scans_after=[1], signed_after=None, carrier="ZTO",
                    tracking_no="731234567000")

    _, everything = merchant_api.get("/merchant/parcels")
    _, signed = merchant_api.get("/merchant/parcels?status=signed")
    _, zto = merchant_api.get("/merchant/parcels?carrier=ZTO")

    assert [p["tracking_no"] for p in everything["parcels"]][0] == moving.tracking_no  # newest shipped first
    [done] = signed["parcels"]
    assert (done["transit_hours"], done["idle_hours"], done["at_risk"]) == (26.0, None, False)
    assert [p["tracking_no"] for p in zto["parcels"]] == [moving.tracking_no]


def test_pages_follow_the_cursor(shop, buyer, merchant_api):
    now = timezone.now()
    made = [parcel(shop=shop, buyer=buyer, shipped_at=now - timedelta(hours=h), scans_after=[], signed_after=None) for h in range(1, 6)]

    seen, cursor = [], None
    while True:
        status, body = merchant_api.get("/merchant/parcels?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200, body
        seen += [p["tracking_no"] for p in body["parcels"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert seen == [p.tracking_no for p in made]


def test_bad_filters_are_422_naming_the_field(merchant_api):
    for query, field in (("carrier=DHL", "carrier"), ("status=lost", "status"), ("cursor=abc", "cursor"), ("at_risk=maybe", "at_risk")):
        status, body = merchant_api.get(f"/merchant/parcels?{query}")
        assert status == 422, (query, body)
        assert field in str(body["error"]["details"]), (query, body)


def test_a_merchant_sees_only_their_own_shops_parcels(shop, buyer, merchant_api):
    now = timezone.now()
    mine = parcel(shop=shop, buyer=buyer, shipped_at=now - timedelta(hours=80), scans_after=[], signed_after=None)
    other = make_shop("隔壁店")
    theirs = parcel(shop=other, buyer=make_buyer(), shipped_at=now - timedelta(hours=80), scans_after=[], signed_after=None)
    stranger = make_member(other, username="neighbour")

    _, my_list = merchant_api.get("/merchant/parcels?at_risk=1")
    _, their_list = ApiClient(stranger.api_token.key).get("/merchant/parcels?at_risk=1")

    assert [p["tracking_no"] for p in my_list["parcels"]] == [mine.tracking_no]
    assert [p["tracking_no"] for p in their_list["parcels"]] == [theirs.tracking_no]


def test_the_logistics_page_filters_at_risk_parcels_and_shows_both_numbers_in_both_languages(shop, buyer, owner):
    now = timezone.now()
    history(shop, buyer, now)
    silent = parcel(shop=shop, buyer=buyer, shipped_at=now - timedelta(hours=31), scans_after=[1], signed_after=None, destination="广东省")
    fine = parcel(shop=shop, buyer=buyer, shipped_at=now - timedelta(hours=20), scans_after=[15], signed_after=None, destination="广东省")
    client = Client()
    client.force_login(owner)

    everything = client.get("/logistics/").content.decode()
    at_risk = client.get("/logistics/?at_risk=1").content.decode()
    client.cookies["django_language"] = "en"
    english = client.get("/logistics/?at_risk=1").content.decode()

    assert silent.tracking_no in everything and fine.tracking_no in everything
    assert silent.tracking_no in at_risk and fine.tracking_no not in at_risk
    assert 'class="at-risk"' in at_risk
    assert '<span class="warn">30.0 h</span> / 27.1 h' in at_risk and '<span class="warn">31.0 h</span> / 28.1 h' in at_risk
    assert "有停滞风险" in at_risk and "At risk of stalling" in english and "Idle / route p95" in english
