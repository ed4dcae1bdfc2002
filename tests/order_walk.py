"""One order's whole walk through the API and the console (submit, pay, ship, deliver, after-sale, refund), each
answer checked to show what the step before it wrote: run on a paused standby and behind PgBouncer alike."""
import json

from django.conf import settings
from django.test import Client

from tests import factories
from tests.conftest import ApiClient


def pay(buyer_api: ApiClient, order_no: str) -> None:
    status, payment = buyer_api.post(f"/orders/{order_no}/payments", {"channel": "douyin_pay"})
    assert status == 201, payment
    body = factories.callback_body(payment, txn=f"TXN-W-{payment['payment_id']}")
    status, result = ApiClient().post("/callbacks/payment", raw=body, headers=factories.signed_headers(body, settings.PAYMENT_CALLBACK_SECRET))
    assert status == 200, result


def signed_push(tracking_no: str, code: str) -> tuple[int, dict]:
    body = json.dumps(
        {"carrier": "SF", "tracking_no": tracking_no, "events": [{"code": code, "time": "2030-01-01T10:00:00+08:00", "location": "杭州", "description": code}]},
        ensure_ascii=False,
    ).encode()
    return ApiClient().post("/callbacks/logistics", raw=body, headers=factories.signed_headers(body, settings.LOGISTICS_CALLBACK_SECRET))


def order_walk(*, shop, sku, owner_username: str, owner_token: str, buyer_token: str, tracking_no: str) -> str:
    """Walk one order of two `sku` to a refunded after-sale case of one; returns its order number."""
    buyer_api = ApiClient(buyer_token)
    merchant_api = ApiClient(owner_token)

    # submit: the buyer reads the order just placed
    status, placed = buyer_api.post("/orders", factories.order_payload(shop, (sku, 2)))
    assert status == 201, placed
    order_no = placed["order_no"]
    status, order = buyer_api.get(f"/orders/{order_no}")
    assert status == 200 and order["status"] == "pending_payment"

    # pay
    pay(buyer_api, order_no)
    assert buyer_api.get(f"/orders/{order_no}")[1]["status"] == "paid"

    # the merchant signs in and stays signed in; the order page shows the paid order
    console = Client()
    assert console.post("/login/", {"username": owner_username, "password": "pw-123456"}).status_code == 302
    page = console.get(f"/orders/{order_no}/")
    assert page.status_code == 200 and order_no in page.content.decode()
    assert console.get("/").status_code == 200
    assert order_no in console.get("/orders/").content.decode()

    # ship
    status, shipped = merchant_api.post(f"/merchant/orders/{order_no}/ship", {"carrier": "SF", "tracking_no": tracking_no})
    assert status == 200, shipped
    assert merchant_api.get(f"/merchant/orders/{order_no}")[1]["status"] == "shipped"
    assert buyer_api.get(f"/orders/{order_no}")[1]["status"] == "shipped"

    # delivered by the carrier's push, then an after-sale refund
    status, pushed = signed_push(tracking_no, "signed")
    assert status == 200, pushed
    assert buyer_api.get(f"/orders/{order_no}")[1]["status"] == "delivered"
    claim = {"type": "refund_only", "reason": "质量问题", "items": [{"sku_id": sku.pk, "quantity": 1}]}
    status, case = buyer_api.post(f"/orders/{order_no}/aftersales", claim)
    assert status == 201, case
    assert buyer_api.get(f"/aftersales/{case['id']}")[1]["status"] == "requested"
    # the one-open-case check sees the case just opened: a second case on the same line is refused
    status, again = buyer_api.post(f"/orders/{order_no}/aftersales", claim)
    assert status == 409 and again["error"]["code"] == "aftersale_already_open"
    status, agreed = merchant_api.post(f"/merchant/aftersales/{case['id']}/operate", {"action": "agree"})
    assert status == 200, agreed
    status, followed = buyer_api.get(f"/aftersales/{case['id']}")
    assert followed["status"] == "refunded" and followed["refund"]["amount"] == str(sku.price)
    assert merchant_api.get(f"/merchant/orders/{order_no}")[1]["after_sales"][0]["status"] == "refunded"
    return order_no
