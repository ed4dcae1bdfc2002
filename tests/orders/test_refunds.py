"""Refunds: never more than was paid, back by the payment's channel, booked once in the ledger, failures retried."""
import json
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from orders.constants import ExceptionKind, LedgerKind, OrderStatus, RefundStatus
from orders.models import LedgerEntry, Order, OrderEvent, OrderException, Refund, Settlement
from orders.services.lifecycle import order_confirm_receipt, order_mark_delivered, order_refund_close
from orders.services.refundable import order_refundable_total
from orders.services.refunds import refund_create
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.errors import Conflict, Invalid
from tests.concurrency import run_concurrently
from tests.conftest import ApiClient
from tests.factories import make_buyer, make_sku, signed_headers, stock_of

D = Decimal


def refund_body(refund, *, txn: str, status: str = "succeeded", reason: str = "") -> bytes:
    return json.dumps(
        {"refund_id": refund.pk, "channel_txn_id": txn, "status": status, "failure_reason": reason, "time": timezone.now().isoformat()}
    ).encode()


def deliver(api, body: bytes):
    return api.post("/callbacks/refund", raw=body, headers=signed_headers(body, settings.PAYMENT_CALLBACK_SECRET))


def ledger(order, kind) -> Decimal:
    return LedgerEntry.objects.filter(order=order, kind=kind).aggregate(t=Sum("amount"))["t"] or D("0.00")


@pytest.fixture
def merchant(owner):
    return Actor.for_user(owner)


@pytest.fixture
def paid_order(sku, place_order, pay):
    """Two units of 59.90 and one of 20.00, paid by douyin_pay: 139.80."""
    def make(channel="douyin_pay"):
        other = make_sku(sku.shop, price="20.00", stock=10)
        order = place_order((sku, 2), (other, 1))
        pay(order["order_no"], channel=channel)
        return Order.objects.get(order_no=order["order_no"])

    return make


def test_douyin_pay_refunds_at_once_through_the_ledger(paid_order, merchant, sku):
    order = paid_order()
    refund = refund_create(order=order, amount=D("30.00"), actor=merchant, reason="价格补差", source="exception:7")
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.channel == "douyin_pay" and refund.refund_id == refund.pk
    assert ledger(order, LedgerKind.REFUND_OUT) == D("30.00")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID  # a partial refund leaves the order as it was
    kinds = list(OrderEvent.objects.filter(order=order, kind__startswith="refund").values_list("kind", flat=True))
    assert kinds == ["refund_created", "refund_succeeded"]
    assert order_refundable_total(order=order) == D("109.80")


def test_other_channels_stay_pending_until_the_signed_callback(paid_order, merchant, api):
    order = paid_order("wechat")
    refund = refund_create(order=order, amount=D("10.00"), actor=merchant, reason="少发赠品")
    assert refund.status == RefundStatus.PENDING and refund.channel == "wechat"
    assert ledger(order, LedgerKind.REFUND_OUT) == 0
    # what is pending is still owed: it counts against what can be refunded
    assert order_refundable_total(order=order) == D("129.80")

    assert deliver(api, refund_body(refund, txn="WXR-1")) == (200, {"result": "applied"})
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED and refund.channel_txn_id == "WXR-1"
    assert ledger(order, LedgerKind.REFUND_OUT) == D("10.00")
    # replayed: nothing changes, still 200
    assert deliver(api, refund_body(refund, txn="WXR-1")) == (200, {"result": "duplicate"})
    assert ledger(order, LedgerKind.REFUND_OUT) == D("10.00")
    assert OrderEvent.objects.filter(order=order, kind="refund_succeeded").count() == 1


def test_refund_callback_needs_a_good_signature_and_a_known_refund(paid_order, merchant, api):
    order = paid_order("alipay")
    refund = refund_create(order=order, amount=D("10.00"), actor=merchant, reason="r")
    body = refund_body(refund, txn="ALR-1")
    status, error = api.post("/callbacks/refund", raw=body, headers=signed_headers(body, "wrong-secret"))
    assert status == 401 and error["error"]["code"] == "bad_signature"
    missing = json.dumps({"refund_id": 999999, "channel_txn_id": "X", "status": "succeeded"}).encode()
    assert deliver(api, missing)[0] == 404
    bad = json.dumps({"refund_id": refund.pk, "channel_txn_id": "X", "status": "maybe"}).encode()
    status, error = deliver(api, bad)
    assert status == 422 and "status" in error["error"]["details"]["fields"]
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PENDING


@pytest.mark.django_db(transaction=True)
def test_refund_callback_replayed_concurrently_books_once(shop):
    sku = make_sku(shop, price="50.00", stock=5)
    buyer = make_buyer()
    buyer_api = ApiClient(buyer.api_token)
    status, placed = buyer_api.post("/orders", {"shop_id": shop.pk, "items": [{"sku_id": sku.pk, "quantity": 1}], "address": {
        "name": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市", "district": "西湖区", "detail": "文三路478号"}})
    assert status == 201, placed
    _s, payment = buyer_api.post(f"/orders/{placed['order_no']}/payments", {"channel": "bank_card"})
    body = json.dumps({"payment_id": payment["payment_id"], "channel_txn_id": "BK-1", "status": "succeeded", "amount": "50.00"}).encode()
    assert ApiClient().post("/callbacks/payment", raw=body, headers=signed_headers(body, settings.PAYMENT_CALLBACK_SECRET))[0] == 200
    order = Order.objects.get(order_no=placed["order_no"])
    refund = refund_create(order=order, amount=D("50.00"), actor=Actor.system("test"), reason="取消")

    body = refund_body(refund, txn="BKR-CONCURRENT")
    results = run_concurrently(3, lambda _i: deliver(ApiClient(), body))
    assert sorted(r[1]["result"] for r in results) == ["applied", "duplicate", "duplicate"]
    assert ledger(order, LedgerKind.REFUND_OUT) == D("50.00")
    assert OrderEvent.objects.filter(order=order, kind="refund_succeeded").count() == 1


def test_a_refund_never_exceeds_what_was_paid_less_what_was_refunded(paid_order, merchant):
    order = paid_order()
    refund_create(order=order, amount=D("100.00"), actor=merchant, reason="部分退款")
    with pytest.raises(Invalid) as refused:
        refund_create(order=order, amount=D("39.81"), actor=merchant, reason="再退")
    assert refused.value.code == "refund_exceeds_paid"
    assert refused.value.details["fields"]["amount"] == "最多可退39.80元"
    with pytest.raises(Invalid) as refused:
        refund_create(order=order, amount=D("-1"), actor=merchant, reason="负数")
    assert "amount" in refused.value.details["fields"]
    with pytest.raises(Invalid):
        refund_create(order=order, amount=D("1.001"), actor=merchant, reason="三位小数")
    assert Refund.objects.filter(order=order).count() == 1


def test_a_line_refund_is_capped_by_that_line_and_the_error_names_it(paid_order, merchant, sku):
    order = paid_order()
    tea = order.lines.get(sku=sku)  # 2 x 59.90
    with pytest.raises(Invalid) as refused:
        refund_create(order=order, amount=D("59.91"), actor=merchant, reason="一件破损", lines={tea.pk: 1})
    line = refused.value.details["lines"][0]
    assert (line["sku_id"], line["refundable"]) == (sku.pk, "59.90")
    assert "蜂蜜柚子茶" == line["product_name"]

    refund = refund_create(order=order, amount=D("59.90"), actor=merchant, reason="一件破损", lines={tea.pk: 1})
    assert [(rl.line_id, rl.quantity, rl.amount) for rl in refund.lines.all()] == [(tea.pk, 1, D("59.90"))]
    # the other unit of that line is still claimable, but not a cent more
    with pytest.raises(Invalid):
        refund_create(order=order, amount=D("59.91"), actor=merchant, reason="again", lines={tea.pk: 2})
    refund_create(order=order, amount=D("59.90"), actor=merchant, reason="again", lines={tea.pk: 2})
    with pytest.raises(Invalid) as refused:
        refund_create(order=order, amount=D("0.01"), actor=merchant, reason="more", lines={tea.pk: 1})
    assert refused.value.details["lines"][0]["refundable"] == "0.00"
    # a line that is not the order's, or too many units, is named
    with pytest.raises(Invalid) as refused:
        refund_create(order=order, amount=D("1.00"), actor=merchant, reason="x", lines={tea.pk: 3})
    assert f"lines.{tea.pk}.quantity" in refused.value.details["fields"]


def test_every_unit_of_a_line_refunded_before_shipping_goes_back_on_sale(paid_order, merchant, sku):
    order = paid_order()
    assert stock_of(sku)["occupied"] == 2
    tea = order.lines.get(sku=sku)
    refund_create(order=order, amount=D("119.80"), actor=merchant, reason="缺货", lines={tea.pk: 2})
    assert stock_of(sku) == {"available": 100, "locked": 0, "occupied": 0}
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID  # the other line still ships


def test_a_full_refund_closes_the_order_and_releases_its_stock(paid_order, merchant, sku):
    order = paid_order()
    refund_create(order=order, amount=D("139.80"), actor=merchant, reason="买家不要了", source="aftersale:1")
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED
    assert stock_of(sku) == {"available": 100, "locked": 0, "occupied": 0}
    close = OrderEvent.objects.get(order=order, kind="transition", to_status="closed")
    assert close.reason == "买家不要了"
    assert ledger(order, LedgerKind.REFUND_OUT) == ledger(order, LedgerKind.ESCROW_IN) == D("139.80")


def test_order_refund_close_goes_through_the_refund_service(paid_order, merchant):
    order = paid_order("alipay")
    refund_create(order=order, amount=D("39.80"), actor=merchant, reason="先退一部分")
    order_refund_close(order=order, actor=merchant, reason="商家同意退款")
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED
    refunds = list(Refund.objects.filter(order=order).order_by("pk").values_list("amount", "status", "source"))
    assert refunds == [(D("39.80"), "pending", ""), (D("100.00"), "pending", "order")]
    assert ledger(order, LedgerKind.REFUND_OUT) == 0  # alipay: the ledger moves when the channel confirms
    with pytest.raises(Conflict):
        order_refund_close(order=order, actor=merchant, reason="again")


def test_a_failed_refund_is_visible_retried_by_the_sweep_and_then_handed_to_a_person(paid_order, merchant, api, settings):
    settings.REFUND_MAX_ATTEMPTS = 2
    order = paid_order("wechat")
    refund = refund_create(order=order, amount=D("20.00"), actor=merchant, reason="r")

    assert deliver(api, refund_body(refund, txn="WXF-1", status="failed", reason="账户冻结")) == (200, {"result": "applied"})
    refund.refresh_from_db()
    assert (refund.status, refund.failure_reason, refund.attempts) == ("failed", "账户冻结", 1)
    assert refund.retry_at is not None
    assert deliver(api, refund_body(refund, txn="WXF-1", status="failed")) == (200, {"result": "duplicate"})
    # still owed while failed
    assert order_refundable_total(order=order) == D("119.80")

    out = StringIO()
    call_command("sweep_deadlines", "--at", (timezone.now() + timedelta(minutes=5)).isoformat(), stdout=out)
    refund.refresh_from_db()
    assert refund.status == "failed"  # not yet due
    call_command("sweep_deadlines", "--at", (refund.retry_at + timedelta(seconds=1)).isoformat(), stdout=out)
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == ("pending", 2)
    assert OrderEvent.objects.filter(order=order, kind="refund_retried").count() == 1

    # the last attempt fails too: no more retries, a payment anomaly for a person
    assert deliver(api, refund_body(refund, txn="WXF-2", status="failed", reason="账户冻结"))[1] == {"result": "applied"}
    refund.refresh_from_db()
    assert refund.status == "failed" and refund.retry_at is None
    anomaly = OrderException.objects.get(order=order, kind=ExceptionKind.PAYMENT_ANOMALY)
    assert anomaly.data["refund_id"] == refund.pk

    # the channel finally pays it: success wins over the failures
    assert deliver(api, refund_body(refund, txn="WXS-3"))[1] == {"result": "applied"}
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert ledger(order, LedgerKind.REFUND_OUT) == D("20.00")
    # a late failure after the success changes nothing
    assert deliver(api, refund_body(refund, txn="WXF-4", status="failed"))[1] == {"result": "ignored"}
    refund.refresh_from_db()
    assert refund.status == "succeeded"


def test_refund_success_reusing_a_failed_transaction_id_is_applied(paid_order, merchant, api):
    order = paid_order("wechat")
    refund = refund_create(order=order, amount=D("20.00"), actor=merchant, reason="r")
    failed = refund_body(refund, txn="WXR-SAME", status="failed", reason="账户冻结")
    assert deliver(api, failed) == (200, {"result": "applied"})

    succeeded = refund_body(refund, txn="WXR-SAME")
    assert deliver(api, succeeded) == (200, {"result": "applied"})
    refund.refresh_from_db()
    assert (refund.status, refund.channel_txn_id, refund.retry_at) == ("succeeded", "WXR-SAME", None)
    assert ledger(order, LedgerKind.REFUND_OUT) == D("20.00")

    # replays of either change nothing
    events = OrderEvent.objects.filter(order=order).count()
    assert deliver(api, succeeded) == (200, {"result": "duplicate"})
    assert deliver(api, failed) == (200, {"result": "duplicate"})
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert ledger(order, LedgerKind.REFUND_OUT) == D("20.00")
    assert OrderEvent.objects.filter(order=order).count() == events


def test_refund_failure_reusing_a_succeeded_transaction_id_changes_nothing(paid_order, merchant, api):
    order = paid_order("alipay")
    refund = refund_create(order=order, amount=D("20.00"), actor=merchant, reason="r")
    assert deliver(api, refund_body(refund, txn="ALR-SAME")) == (200, {"result": "applied"})
    events = OrderEvent.objects.filter(order=order).count()

    failed = refund_body(refund, txn="ALR-SAME", status="failed", reason="账户冻结")
    assert deliver(api, failed) == (200, {"result": "duplicate"})
    assert deliver(api, failed) == (200, {"result": "duplicate"})
    refund.refresh_from_db()
    assert (refund.status, refund.failed_txn_ids, refund.failure_reason) == ("succeeded", [], "")
    assert ledger(order, LedgerKind.REFUND_OUT) == D("20.00")
    assert OrderEvent.objects.filter(order=order).count() == events


def test_settlement_holds_back_refunds_and_a_later_refund_comes_back_from_the_merchant(
    paid_order, merchant, merchant_api, buyer
):
    order = paid_order()
    refund_create(order=order, amount=D("39.80"), actor=merchant, reason="少发一件")
    merchant_api.post(f"/merchant/orders/{order.order_no}/ship", {"carrier": "ZTO", "tracking_no": "73100000000555"})
    order_mark_delivered(order=Order.objects.get(pk=order.pk), actor=Actor.channel("ZTO"))
    order_confirm_receipt(order=Order.objects.get(pk=order.pk), actor=Actor.for_buyer(buyer))
    settlement = Settlement.objects.get(order=order)
    assert settlement.gross == D("100.00")
    assert settlement.commission + settlement.net == D("100.00")

    # after settlement (within the after-sale window) the merchant gives the money back, less the commission share
    refund_create(order=order, amount=D("100.00"), actor=merchant, reason="退货退款")
    assert ledger(order, LedgerKind.SETTLEMENT_REVERSAL) == D("95.00")
    assert ledger(order, LedgerKind.COMMISSION_REVERSAL) == D("5.00")
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED
    # escrow balances: in = out
    money_in = ledger(order, LedgerKind.ESCROW_IN) + ledger(order, LedgerKind.SETTLEMENT_REVERSAL) + ledger(order, LedgerKind.COMMISSION_REVERSAL)
    money_out = ledger(order, LedgerKind.REFUND_OUT) + ledger(order, LedgerKind.SETTLEMENT) + ledger(order, LedgerKind.COMMISSION)
    assert money_in == money_out


def test_an_unpaid_order_has_nothing_to_refund(sku, place_order, merchant):
    order = Order.objects.get(order_no=place_order((sku, 1))["order_no"])
    with pytest.raises(Conflict):
        refund_create(order=order, amount=D("1.00"), actor=merchant, reason="x")


def test_a_failed_refund_is_shown_on_the_order_page(paid_order, merchant, api, console):
    order = paid_order("bank_card")
    refund = refund_create(order=order, amount=D("15.00"), actor=merchant, reason="补差价")
    deliver(api, refund_body(refund, txn="BKF-1", status="failed", reason="卡已注销"))
    page = console.get(f"/orders/{order.order_no}/").content.decode()
    refunds = page.split('id="order-refunds"')[1].split("</table>")[0]
    assert "退款失败" in refunds and "卡已注销" in refunds and "重试时间" in refunds
