"""/logistics/: parcels with filters and counts, stalled ones in red, a selection printed as one PDF; only the shop's own."""
from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from logistics.models import Shipment
from shop_admin.kernel.constants import Role
from shop_admin.kernel.models import BackgroundJob
from tests.conftest import ApiClient
from tests.factories import make_member, make_shop


def ship_orders(place_order, pay, ship, sku, numbers):
    """One paid and shipped order per (carrier, tracking number); returns their order numbers."""
    orders = []
    for carrier, tracking_no in numbers:
        order = place_order((sku, 1))
        pay(order["order_no"])
        ship(order["order_no"], tracking_no=tracking_no, carrier=carrier)
        orders.append(order["order_no"])
    return orders


def test_the_page_lists_parcels_with_counts_per_state_and_filters(console, sku, place_order, pay, ship, push):
    # given: three parcels, one signed, one stalled
    ship_orders(place_order, pay, ship, sku, [("SF", "SF1000000000001"), ("ZTO", "731000000001"), ("YTO", "YT1000000000001")])
    push("SF1000000000001", ("signed", timezone.now(), "西湖区"))
    Shipment.objects.filter(tracking_no="731000000001").update(stalled_at=timezone.now(), stall_deadline=timezone.now() - timedelta(hours=1))
    # when
    page = console.get("/logistics/").content.decode()
    # then
    assert all(no in page for no in ("SF1000000000001", "731000000001", "YT1000000000001"))
    assert 'data-status="in_transit">2<' in page
    assert 'data-status="signed">1<' in page
    assert 'data-status="stalled">1<' in page
    by_carrier = console.get("/logistics/?carrier=ZTO").content.decode()
    assert "731000000001" in by_carrier and "SF1000000000001" not in by_carrier
    by_status = console.get("/logistics/?status=signed").content.decode()
    assert "SF1000000000001" in by_status and "YT1000000000001" not in by_status
    stalled = console.get("/logistics/?stalled=on").content.decode()
    assert "731000000001" in stalled and "YT1000000000001" not in stalled and "物流停滞" in stalled
    today = timezone.localdate()
    assert "YT1000000000001" in console.get(f"/logistics/?shipped_from={today}&shipped_to={today}").content.decode()
    assert "YT1000000000001" not in console.get(f"/logistics/?shipped_to={today - timedelta(days=1)}").content.decode()
    assert "/logistics/bulk-ship/" in page


def test_the_counts_are_cached_and_follow_a_ship_a_signature_and_a_stall_at_once(
    console, sku, place_order, pay, ship, push, django_capture_on_commit_callbacks
):
    # given: one parcel on the road, and the page seen once (the counts now cached)
    ship_orders(place_order, pay, ship, sku, [("SF", "SF1000000000001")])
    page = console.get("/logistics/").content.decode()
    assert 'data-status="in_transit">1<' in page
    # when: another order ships, committed as a request would
    order = place_order((sku, 1))
    pay(order["order_no"])
    with django_capture_on_commit_callbacks(execute=True):
        ship(order["order_no"], tracking_no="731000000001", carrier="ZTO")
    # then: the next page view counts it
    page = console.get("/logistics/").content.decode()
    assert 'data-status="in_transit">2<' in page
    # when: one is signed, the other stalls through the sweep
    with django_capture_on_commit_callbacks(execute=True):
        push("SF1000000000001", ("signed", timezone.now(), "西湖区"))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("sweep_deadlines", "--at", (timezone.now() + timedelta(hours=73)).isoformat(), stdout=StringIO())
    page = console.get("/logistics/").content.decode()
    assert 'data-status="in_transit">1<' in page and 'data-status="signed">1<' in page and 'data-status="stalled">1<' in page
    # and: nothing changed, the counts come from the cache, not from the parcels table
    with CaptureQueriesContext(connection) as queries:
        console.get("/logistics/")
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"] and "logistics_shipment" in q["sql"]]


def test_a_bad_filter_value_is_ignored_not_a_500(console):
    response = console.get("/logistics/?carrier=NOPE&shipped_from=yesterday&page=-3")
    assert response.status_code == 200


def test_the_selection_prints_the_parcels_waybills_as_one_job(console, sku, place_order, pay, ship, run_jobs):
    numbers = ship_orders(place_order, pay, ship, sku, [("SF", "SF1000000000001"), ("SF", "SF1000000000002")])
    with run_jobs():
        response = console.post("/logistics/waybills/", {"order_no": numbers})
    job = BackgroundJob.objects.get()
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert (job.kind, job.status, job.done) == ("logistics_waybills_print", "done", 2)


def test_the_dashboard_counts_stalled_parcels_and_the_nav_links_the_page(console, sku, place_order, pay, ship):
    ship_orders(place_order, pay, ship, sku, [("SF", "SF1000000000001")])
    Shipment.objects.update(stalled_at=timezone.now())
    page = console.get("/").content.decode()
    assert "/logistics/?stalled=1" in page and "物流停滞" in page
    assert 'href="/logistics/"' in page


def test_another_shops_merchant_cannot_see_ship_or_print_these_parcels(shop, sku, place_order, pay, ship, push, run_jobs):
    # given: a parcel of our shop and a merchant of another shop
    [order_no] = ship_orders(place_order, pay, ship, sku, [("SF", "SF1000000000001")])
    stranger = make_member(make_shop("隔壁店"), username="stranger")
    client = Client()
    client.force_login(stranger)
    stranger_api = ApiClient(stranger.api_token.key)
    # then: not in their list, their order view is a 404, shipping and printing touch nothing
    assert "SF1000000000001" not in client.get("/logistics/").content.decode()
    assert client.get(f"/orders/{order_no}/").status_code == 404
    assert stranger_api.get(f"/merchant/orders/{order_no}")[0] == 404
    assert stranger_api.post(f"/merchant/orders/{order_no}/ship", {"carrier": "ZTO", "tracking_no": "731000000009"})[0] == 404
    assert client.post(f"/orders/{order_no}/ship/", {"carrier": "ZTO", "tracking_no": "731000000009"}).status_code == 404
    assert client.post(f"/orders/{order_no}/reship/", {"carrier": "ZTO", "tracking_no": "731000000009"}).status_code == 404
    assert client.get(f"/orders/{order_no}/waybill.pdf").status_code == 404
    with run_jobs():
        client.post("/logistics/waybills/", {"order_no": [order_no]})
    job = BackgroundJob.objects.get()
    assert (job.done, job.failed, job.result_name) == (0, 1, "")
    assert Shipment.objects.filter(order__order_no=order_no).count() == 1


def test_customer_service_and_warehouse_see_the_page(shop, sku, place_order, pay, ship):
    ship_orders(place_order, pay, ship, sku, [("SF", "SF1000000000001")])
    for role in (Role.SERVICE, Role.WAREHOUSE):
        client = Client()
        client.force_login(make_member(shop, role=role))
        assert client.get("/logistics/").status_code == 200


def test_buyer_sees_the_timeline_in_the_buyer_order_view(shipped, push, buyer_api):
    push("SF1234567890123", ("collected", timezone.now(), "杭州", "已揽收"))
    status, view = buyer_api.get(f"/orders/{shipped['order_no']}")
    assert status == 200
    assert [e["code"] for e in view["shipments"][0]["events"]] == ["collected"]


def test_the_page_speaks_english_when_asked(console, settings):
    console.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = console.get("/logistics/").content.decode()
    assert "Print selected waybills" in page and "Stalled only" in page and "No parcels" in page


def test_the_order_lists_parcel_read_gives_each_orders_parcels_oldest_first(sku, place_order, pay, ship):
    from logistics.selectors import ParcelBrief, shipments_brief_by_order
    from orders.models import Order

    # given an order of two parcels, the second shipped before the first, an order not shipped, and one not asked for
    two, other = ship_orders(place_order, pay, ship, sku, [("SF", "SF1234567890123"), ("YTO", "YT1234567890123")])
    ship(two, tracking_no="731000000002", carrier="ZTO", add_parcel=True)
    Shipment.objects.filter(tracking_no="731000000002").update(shipped_at=timezone.now() - timedelta(hours=2))
    unshipped = place_order((sku, 1))["order_no"]
    ids = dict(Order.objects.filter(order_no__in=[two, other, unshipped]).values_list("order_no", "pk"))
    # when the list's cell reads the parcels of the page's orders
    parcels = shipments_brief_by_order([ids[two], ids[unshipped]])
    # then only the asked orders' parcels, oldest shipped first; an order without parcels has none
    assert dict(parcels) == {ids[two]: [ParcelBrief("ZTO", "731000000002"), ParcelBrief("SF", "SF1234567890123")]}
