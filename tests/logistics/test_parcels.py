"""Parcels of an order: 音尊达 per parcel, several parcels, and signed-but-not-received answered by a reship or evidence."""
import subprocess
from datetime import timedelta

from django.utils import timezone

from logistics.models import Shipment
from orders.constants import ExceptionKind, ExceptionStatus, OrderStatus
from orders.models import Order, OrderEvent, OrderException
from tests.logistics.conftest import TRACKING_NO


def test_door_delivery_is_an_option_per_parcel_shown_in_the_api_page_and_waybill(sku, place_order, pay, ship, merchant_api, console, tmp_path):
    order = place_order((sku, 1))
    pay(order["order_no"])
    view = ship(order["order_no"], door_delivery=True)
    assert view["shipments"][0]["door_delivery"] is True
    assert Shipment.objects.get(tracking_no=TRACKING_NO).door_delivery is True
    assert "音尊达" in console.get(f"/orders/{order['order_no']}/").content.decode()
    pdf = console.get(f"/orders/{order['order_no']}/waybill.pdf")
    assert pdf.status_code == 200
    path = tmp_path / "label.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "音尊达" in text


def test_the_console_ship_form_takes_door_delivery(sku, place_order, pay, console):
    order = place_order((sku, 1))
    pay(order["order_no"])
    console.post(f"/orders/{order['order_no']}/ship/", {"carrier": "SF", "tracking_no": TRACKING_NO, "door_delivery": "on"})
    assert Shipment.objects.get(tracking_no=TRACKING_NO).door_delivery is True


def test_a_second_parcel_of_a_shipped_order_and_delivery_when_both_are_signed(shipped, ship, push, merchant_api):
    # a plain "ship" again (a retry, a second clerk) is refused: a further parcel is asked for
    status, body = merchant_api.post(f"/merchant/orders/{shipped['order_no']}/ship", {"carrier": "ZTO", "tracking_no": "731000000002"})
    assert (status, body["error"]["code"]) == (409, "invalid_transition")
    # when: the rest goes in a second box
    view = ship(shipped["order_no"], tracking_no="731000000002", carrier="ZTO", add_parcel=True)
    # then
    assert [s["tracking_no"] for s in view["shipments"]] == [TRACKING_NO, "731000000002"]
    assert OrderEvent.objects.filter(order__order_no=shipped["order_no"], kind="parcel_added").count() == 1
    # the same number twice is refused
    status, body = merchant_api.post(
        f"/merchant/orders/{shipped['order_no']}/ship", {"carrier": "ZTO", "tracking_no": "731000000002", "add_parcel": True}
    )
    assert (status, body["error"]["code"]) == (409, "tracking_no_in_use")
    # one parcel signed: still shipped; both signed: delivered
    push(TRACKING_NO, ("signed", timezone.now(), "门口"))
    assert Order.objects.get(order_no=shipped["order_no"]).status == OrderStatus.SHIPPED
    push("731000000002", ("signed", timezone.now(), "门口"), carrier="ZTO")
    assert Order.objects.get(order_no=shipped["order_no"]).status == OrderStatus.DELIVERED


def test_no_parcel_for_an_order_signed_or_not_paid(sku, place_order, merchant_api, shipped, push):
    unpaid = place_order((sku, 1))
    status, body = merchant_api.post(f"/merchant/orders/{unpaid['order_no']}/ship", {"carrier": "ZTO", "tracking_no": "731000000003"})
    assert status == 409
    push(TRACKING_NO, ("signed", timezone.now(), "门口"))
    status, body = merchant_api.post(
        f"/merchant/orders/{shipped['order_no']}/ship", {"carrier": "ZTO", "tracking_no": "731000000003", "add_parcel": True}
    )
    assert (status, body["error"]["code"]) == (409, "invalid_transition")


def signed_and_not_received(shipped, push, buyer_api) -> OrderException:
    signed_at = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    push(
        TRACKING_NO,
        ("out_for_delivery", signed_at - timedelta(hours=2), "西湖区", "派件中"),
        ("signed", signed_at, "文三路丰巢快递柜", "已签收，取件码 556677"),
    )
    status, body = buyer_api.post(f"/orders/{shipped['order_no']}/not-received", {"description": "快递柜里没有"})
    assert status == 201, body
    return OrderException.objects.get(order__order_no=shipped["order_no"], kind=ExceptionKind.NOT_RECEIVED)


def test_not_received_carries_the_tracking_evidence(shipped, push, buyer_api):
    exception = signed_and_not_received(shipped, push, buyer_api)
    [parcel] = exception.data["tracking"]
    assert parcel["tracking_no"] == TRACKING_NO
    assert parcel["signed_location"] == "文三路丰巢快递柜"
    assert parcel["signed_at"] is not None
    assert [e["code"] for e in parcel["last_events"]] == ["signed", "out_for_delivery"]


def test_the_merchant_reships_at_its_own_freight(shipped, push, buyer_api, console, merchant_api):
    exception = signed_and_not_received(shipped, push, buyer_api)
    response = console.post(f"/orders/{shipped['order_no']}/reship/", {"carrier": "ZTO", "tracking_no": "731000000004"})
    assert response.status_code == 302
    reship = Shipment.objects.get(tracking_no="731000000004")
    assert (reship.is_reship, reship.freight_payer) == (True, "merchant")
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.RESOLVED and "731000000004" in exception.resolution_text
    status, view = merchant_api.get(f"/merchant/orders/{shipped['order_no']}")
    assert [(s["tracking_no"], s["is_reship"]) for s in view["shipments"]] == [(TRACKING_NO, False), ("731000000004", True)]
    assert view["status"] == OrderStatus.DELIVERED  # the order stays signed; the reship is tracked on its own
    # a second reship has no open exception to answer
    response = console.post(f"/orders/{shipped['order_no']}/reship/", {"carrier": "ZTO", "tracking_no": "731000000005"})
    assert not Shipment.objects.filter(tracking_no="731000000005").exists()


def test_the_merchant_answers_with_evidence(shipped, push, buyer_api, console):
    exception = signed_and_not_received(shipped, push, buyer_api)
    # a note without evidence is refused, naming what is missing
    console.post(f"/orders/{shipped['order_no']}/not-received/answer/", {"note": "已签收", "evidence": "not a url"})
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.OPEN
    console.post(
        f"/orders/{shipped['order_no']}/not-received/answer/",
        {"note": "快递柜取件记录显示已取件", "evidence": "https://img.example.com/locker.jpg\nhttps://img.example.com/sign.jpg"},
    )
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.RESOLVED
    assert exception.data["answer"]["evidence"] == ["https://img.example.com/locker.jpg", "https://img.example.com/sign.jpg"]
    assert "快递柜取件记录" in exception.resolution_text


def test_the_merchant_api_reships_or_answers_and_refuses_without_an_open_exception(shipped, push, buyer_api, merchant_api):
    status, body = merchant_api.post(f"/merchant/orders/{shipped['order_no']}/reship", {"carrier": "ZTO", "tracking_no": "731000000006"})
    assert (status, body["error"]["code"]) == (409, "no_open_not_received")
    signed_and_not_received(shipped, push, buyer_api)
    status, body = merchant_api.post(f"/merchant/orders/{shipped['order_no']}/not-received/answer", {"note": "已取件", "evidence": ["ftp://x"]})
    assert (status, list(body["error"]["details"]["fields"])) == (422, ["evidence"])
    status, view = merchant_api.post(f"/merchant/orders/{shipped['order_no']}/reship", {"carrier": "ZTO", "tracking_no": "731000000006"})
    assert status == 200, view
    assert view["shipments"][-1]["freight_payer"] == "merchant"
    assert [(e["kind"], e["status"]) for e in view["exceptions"]] == [("not_received", "resolved")]


def test_the_reship_endpoint_documents_only_the_fields_it_uses(api, db):
    # given the API's OpenAPI schema
    status, schema = api.get("/openapi.json")
    assert status == 200
    # then the reship body names the new parcel and nothing of a first shipment (no add_parcel)
    body = schema["paths"]["/api/v1/merchant/orders/{order_no}/reship"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    fields = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]["properties"]
    assert set(fields) == {"carrier", "tracking_no", "door_delivery"}


def test_the_order_page_adds_a_parcel_to_a_shipped_order(shipped, console):
    page = console.get(f"/orders/{shipped['order_no']}/").content.decode()
    assert "追加包裹" in page and 'name="add_parcel"' in page
    console.post(f"/orders/{shipped['order_no']}/ship/", {"carrier": "ZTO", "tracking_no": "731000000007", "add_parcel": "on"})
    assert Shipment.objects.filter(order__order_no=shipped["order_no"]).count() == 2
