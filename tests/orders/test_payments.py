"""Payment attempts and the channel's signed callbacks: applied once, in any order, never lost."""
import json
import time

import pytest
from django.conf import settings

from orders.constants import ExceptionKind, LedgerKind, OrderStatus
from orders.models import LedgerEntry, Order, OrderEvent, OrderException
from tests.concurrency import run_concurrently
from tests.conftest import ApiClient
from tests.factories import callback_body, make_sku, signed_headers, stock_of


def deliver(api, body: bytes, **kw):
    return api.post("/callbacks/payment", raw=body, headers=signed_headers(body, settings.PAYMENT_CALLBACK_SECRET, **kw))


def test_success_callback_pays_the_order_and_books_escrow(sku, buyer_api, api, place_order):
    order = place_order((sku, 2))
    status, payment = buyer_api.post(f"/orders/{order['order_no']}/payments", {"channel": "wechat"})
    assert status == 201
    assert payment["amount"] == "119.80"
    status, result = deliver(api, callback_body(payment, txn="WX-1"))
    assert (status, result) == (200, {"result": "applied"})
    paid = Order.objects.get(order_no=order["order_no"])
    assert paid.status == OrderStatus.PAID
    assert paid.ship_deadline is not None
    assert str(paid.paid_amount) == "119.80"
    assert stock_of(sku) == {"available": 98, "locked": 0, "occupied": 2}
    assert LedgerEntry.objects.filter(order=paid, kind=LedgerKind.ESCROW_IN).count() == 1


def test_replayed_callback_changes_nothing_the_second_time(sku, buyer_api, api, place_order):
    order = place_order((sku, 1))
    _status, payment = buyer_api.post(f"/orders/{order['order_no']}/payments", {"channel": "alipay"})
    body = callback_body(payment, txn="ALI-1")
    assert deliver(api, body) == (200, {"result": "applied"})
    assert deliver(api, body) == (200, {"result": "duplicate"})
    assert LedgerEntry.objects.filter(channel_txn_id="ALI-1").count() == 1
    assert stock_of(sku) == {"available": 99, "locked": 0, "occupied": 1}


@pytest.mark.django_db(transaction=True)
def test_callback_replayed_three_times_concurrently_applies_once(shop, buyer):
    sku = make_sku(shop, price="10.00", stock=10)
    buyer_api = ApiClient(buyer.api_token)
    status, order = buyer_api.post("/orders", {"shop_id": shop.pk, "items": [{"sku_id": sku.pk, "quantity": 1}], "address": {
        "name": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市", "district": "西湖区", "detail": "文三路478号"}})
    assert status == 201, order
    _status, payment = buyer_api.post(f"/orders/{order['order_no']}/payments", {"channel": "douyin_pay"})
    body = callback_body(payment, txn="DY-CONCURRENT")
    results = run_concurrently(3, lambda _i: deliver(ApiClient(), body))

    assert sorted(r[1]["result"] for r in results) == ["applied", "duplicate", "duplicate"]
    assert all(r[0] == 200 for r in results)
    assert LedgerEntry.objects.filter(channel_txn_id="DY-CONCURRENT").count() == 1
    paid = Order.objects.get(order_no=order["order_no"])
    assert OrderEvent.objects.filter(order=paid, kind="transition", to_status="paid").count() == 1
    assert stock_of(sku) == {"available": 9, "locked": 0, "occupied": 1}


def test_failure_releases_the_lock_and_a_retry_takes_it_again(sku, buyer_api, api, place_order):
    order = place_order((sku, 3))
    _status, first = buyer_api.post(f"/orders/{order['order_no']}/payments", {"channel": "bank_card"})
    status, result = deliver(api, callback_body(first, txn="BANK-1", status="failed", reason="insufficient_balance"))
    assert (status, result["result"]) == (200, "applied")
    assert Order.objects.get(order_no=order["order_no"]).status == OrderStatus.PENDING_PAYMENT
    assert stock_of(sku) == {"available": 100, "locked": 0, "occupied": 0}
    _status, detail = buyer_api.get(f"/orders/{order['order_no']}")
    assert detail["payments"][0]["failure_reason"] == "insufficient_balance"

    status, second = buyer_api.post(f"/orders/{order['order_no']}/payments", {"channel": "douyin_pay"})
    assert status == 201
    assert stock_of(sku) == {"available": 97, "locked": 3, "occupied": 0}
    deliver(api, callback_body(second, txn="DY-2"))
    assert Order.objects.get(order_no=order["order_no"]).status == OrderStatus.PAID


def test_retry_after_failure_when_stock_was_sold_meanwhile_is_refused(shop, buyer_api, api, place_order):
    sku = make_sku(shop, stock=1)
    order = place_order((sku, 1))
    _status, first = buyer_api.post(f"/orders/{order['order_no']}/payments", {"channel": "wechat"})
    deliver(api, callback_body(first, txn="WX-F", status="failed", reason="network_error"))
    place_order((sku, 1))  # someone else takes the unit back on sale
    status, body = buyer_api.post(f"/orders/{order['order_no']}/payments", {"channel": "wechat"})
    assert status == 409
    assert body["error"]["code"] == "out_of_stock"


def test_failure_arriving_after_success_is_ignored(sku, buyer_api, api, place_order):
    order = place_order((sku, 1))
    _status, payment = buyer_api.post(f"/orders/{order['order_no']}/payments", {"channel": "wechat"})
    deliver(api, callback_body(payment, txn="WX-OK"))
    status, result = deliver(api, callback_body(payment, txn="WX-LATE-FAIL", status="failed", reason="network_error"))
    assert (status, result["result"]) == (200, "ignored")
    assert Order.objects.get(order_no=order["order_no"]).status == OrderStatus.PAID
    assert stock_of(sku)["occupied"] == 1


def test_success_reusing_a_failed_attempts_transaction_id_pays_the_order(sku, buyer_api, api, place_order):
    order = place_order((sku, 1))
    _status, payment = buyer_api.post(f"/orders/{order['order_no']}/payments", {"channel": "bank_card"})
    failed = callback_body(payment, txn="BANK-SAME", status="failed", reason="network_error")
    assert deliver(api, failed) == (200, {"result": "applied"})
    assert stock_of(sku) == {"available": 100, "locked": 0, "occupied": 0}

    succeeded = callback_body(payment, txn="BANK-SAME")
    assert deliver(api, succeeded) == (200, {"result": "applied"})
    paid = Order.objects.get(order_no=order["order_no"])
    assert paid.status == OrderStatus.PAID
    assert paid.ship_deadline is not None
    assert stock_of(sku) == {"available": 99, "locked": 0, "occupied": 1}
    assert LedgerEntry.objects.filter(order=paid, kind=LedgerKind.ESCROW_IN, channel_txn_id="BANK-SAME").count() == 1

    # replays of either, in any order, change nothing
    events = OrderEvent.objects.filter(order=paid).count()
    assert deliver(api, succeeded) == (200, {"result": "duplicate"})
    assert deliver(api, failed) == (200, {"result": "duplicate"})
    paid.refresh_from_db()
    assert paid.status == OrderStatus.PAID
    assert paid.payments.get().status == "succeeded"
    assert LedgerEntry.objects.filter(order=paid).count() == 1
    assert OrderEvent.objects.filter(order=paid).count() == events
    assert stock_of(sku) == {"available": 99, "locked": 0, "occupied": 1}


def test_failure_reusing_a_succeeded_transaction_id_changes_nothing(sku, buyer_api, api, place_order):
    order = place_order((sku, 1))
    _status, payment = buyer_api.post(f"/orders/{order['order_no']}/payments", {"channel": "wechat"})
    assert deliver(api, callback_body(payment, txn="WX-SAME")) == (200, {"result": "applied"})
    paid = Order.objects.get(order_no=order["order_no"])
    events = OrderEvent.objects.filter(order=paid).count()

    failed = callback_body(payment, txn="WX-SAME", status="failed", reason="network_error")
    assert deliver(api, failed) == (200, {"result": "duplicate"})
    assert deliver(api, failed) == (200, {"result": "duplicate"})
    paid.refresh_from_db()
    payment_row = paid.payments.get()
    assert (paid.status, payment_row.status, payment_row.failure_reason) == (OrderStatus.PAID, "succeeded", "")
    assert OrderEvent.objects.filter(order=paid).count() == events
    assert stock_of(sku) == {"available": 99, "locked": 0, "occupied": 1}


def test_success_after_cancellation_is_recorded_and_flagged(sku, buyer_api, api, place_order):
    order = place_order((sku, 1))
    _status, payment = buyer_api.post(f"/orders/{order['order_no']}/payments", {"channel": "alipay"})
    buyer_api.post(f"/orders/{order['order_no']}/cancel", {"reason": "不要了"})
    status, result = deliver(api, callback_body(payment, txn="ALI-LATE"))
    assert (status, result["result"]) == (200, "flagged")
    cancelled = Order.objects.get(order_no=order["order_no"])
    assert cancelled.status == OrderStatus.CANCELLED
    assert LedgerEntry.objects.filter(order=cancelled, kind=LedgerKind.ESCROW_IN, channel_txn_id="ALI-LATE").exists()
    assert OrderException.objects.filter(order=cancelled, kind=ExceptionKind.PAYMENT_ANOMALY, status="open").exists()
    assert stock_of(sku) == {"available": 100, "locked": 0, "occupied": 0}


def test_wrong_amount_is_booked_but_does_not_pay_the_order(sku, buyer_api, api, place_order):
    order = place_order((sku, 1))
    _status, payment = buyer_api.post(f"/orders/{order['order_no']}/payments", {"channel": "alipay"})
    status, result = deliver(api, callback_body(payment, txn="ALI-AMT", amount="0.01"))
    assert (status, result["result"]) == (200, "flagged")
    assert Order.objects.get(order_no=order["order_no"]).status == OrderStatus.PENDING_PAYMENT
    assert OrderException.objects.filter(kind=ExceptionKind.PAYMENT_ANOMALY).count() == 1


def test_fourth_payment_attempt_freezes_the_order(sku, buyer_api, place_order):
    order = place_order((sku, 1))
    for _ in range(3):
        status, _body = buyer_api.post(f"/orders/{order['order_no']}/payments", {"channel": "wechat"})
        assert status == 201
    status, body = buyer_api.post(f"/orders/{order['order_no']}/payments", {"channel": "wechat"})
    assert status == 409
    assert body["error"]["code"] == "order_frozen"
    frozen = Order.objects.get(order_no=order["order_no"])
    assert frozen.is_frozen
    assert OrderException.objects.filter(order=frozen, kind=ExceptionKind.PAYMENT_ANOMALY, data__reason="too_many_attempts").exists()


def test_payment_on_a_paid_order_is_refused(sku, buyer_api, place_order, pay):
    order = place_order((sku, 1))
    pay(order["order_no"])
    status, body = buyer_api.post(f"/orders/{order['order_no']}/payments", {"channel": "wechat"})
    assert status == 409
    assert "不需要支付" in body["error"]["message"]


def test_oversold_payment_holds_the_order(shop, buyer_api, api, merchant_api, place_order):
    sku = make_sku(shop, stock=1)
    order = place_order((sku, 1))
    _status, payment = buyer_api.post(f"/orders/{order['order_no']}/payments", {"channel": "wechat"})
    deliver(api, callback_body(payment, txn="WX-FAIL", status="failed", reason="wrong_password"))
    _status, second = buyer_api.post(f"/orders/{order['order_no']}/payments", {"channel": "wechat"})
    # The lock was taken again by the retry; the merchant then forces the shelf count to zero.
    status, stock = merchant_api.put(f"/merchant/skus/{sku.pk}/stock", {"available": 0, "force": True})
    assert status == 200, stock
    deliver(api, callback_body(second, txn="WX-PAID"))
    paid = Order.objects.get(order_no=order["order_no"])
    assert paid.status == OrderStatus.PAID
    assert paid.on_hold
    assert OrderException.objects.filter(order=paid, kind=ExceptionKind.OVERSELL, status="open").exists()


@pytest.mark.parametrize(
    "mutate, code",
    [
        (lambda h, b: {**h, "X-Signature": "0" * 64}, "bad_signature"),
        (lambda h, b: {k: v for k, v in h.items() if k != "X-Signature"}, "bad_signature"),
        (lambda h, b: signed_headers(b, settings.PAYMENT_CALLBACK_SECRET, at=int(time.time()) - 301), "stale_signature"),
        (lambda h, b: {**h, "X-Timestamp": "yesterday"}, "stale_signature"),
        (lambda h, b: signed_headers(b, "not-the-secret"), "bad_signature"),
    ],
)
def test_bad_or_stale_signature_is_401_and_changes_nothing(sku, buyer_api, api, place_order, mutate, code):
    order = place_order((sku, 1))
    _status, payment = buyer_api.post(f"/orders/{order['order_no']}/payments", {"channel": "wechat"})
    body = callback_body(payment, txn="WX-SIG")
    headers = mutate(signed_headers(body, settings.PAYMENT_CALLBACK_SECRET), body)
    status, result = api.post("/callbacks/payment", raw=body, headers=headers)
    assert status == 401
    assert result["error"]["code"] == code
    assert Order.objects.get(order_no=order["order_no"]).status == OrderStatus.PENDING_PAYMENT


@pytest.mark.parametrize(
    "body, field",
    [
        ({"channel_txn_id": "X", "status": "succeeded", "amount": "1.00"}, "payment_id"),
        ({"payment_id": 1, "channel_txn_id": "X", "status": "maybe", "amount": "1.00"}, "status"),
        ({"payment_id": 1, "channel_txn_id": "X", "status": "succeeded", "amount": "-3"}, "amount"),
        ({"payment_id": 1, "channel_txn_id": "", "status": "succeeded", "amount": "1.00"}, "channel_txn_id"),
    ],
)
def test_malformed_callback_names_the_field(api, db, body, field):
    raw = json.dumps(body).encode()
    status, result = deliver(api, raw)
    assert status == 422
    assert field in result["error"]["details"]["fields"]


def test_callback_for_unknown_payment_is_404(api, db):
    raw = json.dumps({"payment_id": 999999, "channel_txn_id": "X", "status": "succeeded", "amount": "1.00"}).encode()
    status, result = deliver(api, raw)
    assert status == 404
    assert result["error"]["code"] == "payment_not_found"


def test_callback_that_is_not_json_is_400(api, db):
    status, result = deliver(api, b"not json at all")
    assert status == 400
    assert result["error"]["code"] == "invalid_json"
