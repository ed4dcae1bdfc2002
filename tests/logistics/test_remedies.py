"""The remedies logistics adds to the exception centre: urge the carrier with a coupon, reship at the merchant's freight."""
from logistics.models import Shipment
from orders.models import Order, OrderException
from orders.services.lifecycle import order_mark_delivered
from shop_admin.kernel.actors import Actor


def _not_received(sku, place_order, pay, merchant_api, buyer_api) -> OrderException:
    placed = place_order((sku, 1))
    pay(placed["order_no"])
    status, body = merchant_api.post(f"/merchant/orders/{placed['order_no']}/ship", {"carrier": "中通", "tracking_no": "73100000000021"})
    assert status == 200, body
    order_mark_delivered(order=Order.objects.get(order_no=placed["order_no"]), actor=Actor.channel("ZTO"))
    status, body = buyer_api.post(f"/orders/{placed['order_no']}/not-received", {"description": "没收到"})
    assert status == 201, body
    return OrderException.objects.get(pk=body["id"])


def test_not_received_offers_urge_and_reship(sku, place_order, pay, merchant_api, buyer_api):
    exception = _not_received(sku, place_order, pay, merchant_api, buyer_api)
    _s, body = merchant_api.get(f"/merchant/exceptions/{exception.pk}")
    assert {"urge_carrier", "reship", "compensate"} <= set(body["remedies"])
    assert "transfer_stock" not in set(body["remedies"])


def test_urge_carrier_records_it_and_gives_a_coupon(sku, place_order, pay, merchant_api, buyer_api):
    exception = _not_received(sku, place_order, pay, merchant_api, buyer_api)
    status, body = merchant_api.post(
        f"/merchant/exceptions/{exception.pk}/resolve",
        {"remedy": "urge_carrier", "coupon_amount": "5.00", "evidence": ["https://x.example/track.png"]},
    )
    assert status == 200, body
    assert body["coupon"]["amount"] == "5.00" and "73100000000021" in body["resolution"]
    assert body["evidence"] == ["https://x.example/track.png"]
    assert exception.order.events.filter(kind="carrier_urged").exists()


def test_reship_creates_a_new_parcel_at_the_merchants_freight(sku, place_order, pay, merchant_api, buyer_api):
    exception = _not_received(sku, place_order, pay, merchant_api, buyer_api)
    url = f"/merchant/exceptions/{exception.pk}/resolve"
    status, body = merchant_api.post(url, {"remedy": "reship", "carrier": "中通"})
    assert status == 422 and "tracking_no" in body["error"]["details"]["fields"]
    status, body = merchant_api.post(url, {"remedy": "reship", "carrier": "中通", "tracking_no": "bad"})
    assert status == 422 and "tracking_no" in body["error"]["details"]["fields"]
    status, body = merchant_api.post(url, {"remedy": "reship", "carrier": "顺丰", "tracking_no": "SF1234567890123"})
    assert status == 200, body
    assert Shipment.objects.filter(order=exception.order).count() == 2
    parcel = Shipment.objects.get(tracking_no="SF1234567890123")
    assert parcel.is_reship and parcel.freight_payer == "merchant" and parcel.stall_deadline is not None
    event = exception.order.events.get(kind="reshipped")
    assert event.data["freight_paid_by"] == "merchant"


def test_the_detail_gives_each_remedys_form_fields(sku, place_order, pay, merchant_api, buyer_api):
    exception = _not_received(sku, place_order, pay, merchant_api, buyer_api)
    _s, body = merchant_api.get(f"/merchant/exceptions/{exception.pk}")
    reship = next(r for r in body["remedy_forms"] if r["name"] == "reship")
    assert reship["required"] == ["carrier", "tracking_no"] and "coupon_amount" in reship["fields"]
