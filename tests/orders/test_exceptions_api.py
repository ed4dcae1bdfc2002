"""The exception centre through the merchant API: list, report, resolve with each orders remedy, coupons, another shop."""
from decimal import Decimal

import pytest
from django.conf import settings

from orders.constants import LedgerKind, LineStock, OrderStatus
from orders.models import Coupon, LedgerEntry, OrderException, Refund, StockLevel
from shop_admin.kernel.constants import Role
from shop_admin.kernel.models import Warehouse
from tests.conftest import ApiClient
from tests.factories import make_member, make_shop, make_sku, stock_of
from tests.orders.exception_helpers import oversold_order, paid_order, stray_payment_order


def test_list_shows_open_exceptions_oldest_first_with_their_remedies(sku, place_order, pay, merchant_api):
    # given two oversold orders
    first, _e1 = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    StockLevel.objects.filter(sku=sku).update(available=5)
    second, _e2 = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    # when the merchant lists open exceptions
    status, body = merchant_api.get("/merchant/exceptions")
    # then the older comes first, each with the remedies its kind allows and a deadline (the ship-by)
    assert status == 200, body
    assert [e["order_no"] for e in body["exceptions"]] == [first.order_no, second.order_no]
    row = body["exceptions"][0]
    assert row["kind"] == "oversell" and row["status"] == "open"
    assert set(row["remedies"]) >= {"transfer_stock", "similar_sku", "cancel_refund", "compensate", "no_action"}
    assert "urge_carrier" not in set(row["remedies"])
    assert row["deadline"] is not None
    assert set(row) >= {"id", "order_no", "kind", "status", "opened_at", "deadline", "detail", "remedies"}


def test_list_pages_with_a_cursor_and_filters_by_kind(sku, place_order, pay, merchant_api):
    for _ in range(3):
        StockLevel.objects.filter(sku=sku).update(available=5)
        oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    status, page1 = merchant_api.get("/merchant/exceptions?limit=2")
    assert status == 200 and len(page1["exceptions"]) == 2 and page1["next_cursor"]
    status, page2 = merchant_api.get(f"/merchant/exceptions?limit=2&cursor={page1['next_cursor']}")
    assert len(page2["exceptions"]) == 1 and page2["next_cursor"] is None
    status, none = merchant_api.get("/merchant/exceptions?kind=not_received")
    assert none["exceptions"] == []
    status, bad = merchant_api.get("/merchant/exceptions?cursor=garbage")
    assert status == 422 and "cursor" in bad["error"]["details"]["fields"]


def test_merchant_reports_damaged_goods_and_shipping_is_held_until_resolved(sku, place_order, pay, merchant_api):
    order = paid_order(sku=sku, place_order=place_order, pay=pay)
    status, body = merchant_api.post(
        f"/merchant/orders/{order.order_no}/exceptions",
        {"kind": "merchant_reported", "description": "外箱压坏，商品破损", "evidence": ["https://img.example.com/1.jpg"]},
    )
    assert status == 201, body
    assert body["kind"] == "merchant_reported" and body["evidence"] == ["https://img.example.com/1.jpg"]
    status, refused = merchant_api.post(f"/merchant/orders/{order.order_no}/ship", {"carrier": "中通", "tracking_no": "73100000000001"})
    assert status == 409, refused
    # when it is resolved (the goods were replaced in the warehouse: no action)
    status, done = merchant_api.post(f"/merchant/exceptions/{body['id']}/resolve", {"remedy": "no_action", "note": "已换新包装"})
    assert status == 200, done
    status, shipped = merchant_api.post(f"/merchant/orders/{order.order_no}/ship", {"carrier": "中通", "tracking_no": "73100000000001"})
    assert status == 200, shipped


def test_report_names_a_bad_kind_or_a_missing_description(sku, place_order, pay, merchant_api):
    order = paid_order(sku=sku, place_order=place_order, pay=pay)
    status, body = merchant_api.post(f"/merchant/orders/{order.order_no}/exceptions", {"kind": "oversell", "description": "x"})
    assert status == 422 and "kind" in body["error"]["details"]["fields"]
    status, body = merchant_api.post(f"/merchant/orders/{order.order_no}/exceptions", {"kind": "merchant_reported"})
    assert status == 422 and "description" in body["error"]["details"]["fields"]
    status, body = merchant_api.post(
        f"/merchant/orders/{order.order_no}/exceptions", {"kind": "merchant_reported", "description": "x", "evidence": ["ftp://a"]}
    )
    assert status == 422 and "evidence.0" in body["error"]["details"]["fields"]


def test_transfer_stock_fills_the_short_line_from_another_warehouse(shop, place_order, pay, merchant_api, owner):
    # given a shop with two warehouses, the oversold SKU still stocked in the second
    second = Warehouse.objects.create(shop=shop, name="上海仓", province="上海市", priority=1)
    sku = make_sku(shop, stock=5)
    StockLevel.objects.filter(sku=sku, warehouse=second).update(available=3)
    order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    # when the merchant transfers from the second warehouse
    status, body = merchant_api.post(
        f"/merchant/exceptions/{exception.pk}/resolve", {"remedy": "transfer_stock", "warehouse_id": second.pk, "note": "上海仓发"}
    )
    # then the line occupies stock there, the hold is lifted, and the record says who and how
    assert status == 200, body
    assert body["status"] == "resolved" and body["remedy"] == "transfer_stock" and body["resolved_by"] == owner.username
    line = order.lines.get()
    assert line.stock_state == LineStock.OCCUPIED and line.stock_level.warehouse_id == second.pk
    assert StockLevel.objects.get(sku=sku, warehouse=second).occupied == 1
    assert StockLevel.objects.get(sku=sku, warehouse=second).available == 2
    order.refresh_from_db()
    assert not order.on_hold
    assert order.events.filter(kind="exception_resolved").exists()


def test_transfer_from_a_warehouse_without_stock_is_refused_and_changes_nothing(sku, place_order, pay, merchant_api):
    order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    warehouse = sku.stock_levels.first().warehouse
    status, body = merchant_api.post(f"/merchant/exceptions/{exception.pk}/resolve", {"remedy": "transfer_stock", "warehouse_id": warehouse.pk})
    assert status == 409 and body["error"]["code"] == "out_of_stock"
    assert body["error"]["details"]["lines"][0]["sku_id"] == sku.pk
    exception.refresh_from_db()
    assert exception.status == "open"
    status, body = merchant_api.post(f"/merchant/exceptions/{exception.pk}/resolve", {"remedy": "transfer_stock"})
    assert status == 422 and "warehouse_id" in body["error"]["details"]["fields"]


def test_similar_sku_ships_another_sku_and_refunds_the_difference(shop, sku, place_order, pay, merchant_api):
    order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api, quantity=2)
    cheaper = make_sku(shop, price="49.90", stock=10, name="蜂蜜柚子茶（小瓶）")
    status, body = merchant_api.post(
        f"/merchant/exceptions/{exception.pk}/resolve", {"remedy": "similar_sku", "sku_id": cheaper.pk, "note": "买家同意换小瓶"}
    )
    assert status == 200, body
    line = order.lines.get()
    assert line.sku_id == cheaper.pk and line.stock_state == LineStock.OCCUPIED
    assert line.product_snapshot["name"] == "蜂蜜柚子茶"  # what the buyer saw at order time stays
    assert stock_of(cheaper) == {"available": 8, "locked": 0, "occupied": 2}
    refund = LedgerEntry.objects.get(order=order, kind=LedgerKind.REFUND_OUT)
    assert refund.amount == Decimal("20.00")
    assert "20.00" in body["resolution"]


def test_similar_sku_of_another_shop_is_refused_naming_the_field(sku, place_order, pay, merchant_api):
    order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    foreign = make_sku(make_shop(), stock=10)
    status, body = merchant_api.post(f"/merchant/exceptions/{exception.pk}/resolve", {"remedy": "similar_sku", "sku_id": foreign.pk})
    assert status == 422 and "sku_id" in body["error"]["details"]["fields"]


def test_cancel_refund_closes_the_order_refunds_everything_and_compensates(sku, place_order, pay, merchant_api, buyer):
    order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    status, body = merchant_api.post(
        f"/merchant/exceptions/{exception.pk}/resolve", {"remedy": "cancel_refund", "note": "缺货，致歉", "coupon_amount": "10.00"}
    )
    assert status == 200, body
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED
    assert LedgerEntry.objects.get(order=order, kind=LedgerKind.REFUND_OUT).amount == order.paid_amount
    coupon = Coupon.objects.get(code=body["coupon"]["code"])
    assert coupon.kind == "compensation" and coupon.buyer_id == buyer.pk and coupon.shop_id == order.shop_id
    assert coupon.discount == Decimal("10.00") and coupon.threshold == 0


def test_cancel_refund_of_a_payment_after_cancellation_sends_the_money_back(sku, place_order, buyer_api, api, merchant_api):
    order, exception = stray_payment_order(sku=sku, place_order=place_order, buyer_api=buyer_api, api=api)
    status, body = merchant_api.post(f"/merchant/exceptions/{exception.pk}/resolve", {"remedy": "cancel_refund", "note": "退回"})
    assert status == 200, body
    # alipay refunds by its callback: the refund is on its way, by the payment's route, tagged with the exception
    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.channel, refund.status) == (Decimal("59.90"), "alipay", "pending")
    assert refund.source == f"exception:{exception.pk}"


def test_compensate_needs_an_amount_within_the_platform_limit(sku, place_order, pay, merchant_api):
    order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    url = f"/merchant/exceptions/{exception.pk}/resolve"
    status, body = merchant_api.post(url, {"remedy": "compensate"})
    assert status == 422 and "coupon_amount" in body["error"]["details"]["fields"]
    over = str(settings.COMPENSATION_COUPON_MAX + Decimal("0.01"))
    status, body = merchant_api.post(url, {"remedy": "compensate", "coupon_amount": over})
    assert status == 422 and "coupon_amount" in body["error"]["details"]["fields"]
    status, body = merchant_api.post(url, {"remedy": "compensate", "coupon_amount": "-1"})
    assert status == 422 and "coupon_amount" in body["error"]["details"]["fields"]
    assert not Coupon.objects.exists()
    status, body = merchant_api.post(url, {"remedy": "compensate", "coupon_amount": str(settings.COMPENSATION_COUPON_MAX)})
    assert status == 200 and body["coupon"]["amount"] == f"{settings.COMPENSATION_COUPON_MAX:.2f}"


def test_resolving_twice_is_409_and_only_one_coupon_exists(sku, place_order, pay, merchant_api):
    order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    url = f"/merchant/exceptions/{exception.pk}/resolve"
    assert merchant_api.post(url, {"remedy": "compensate", "coupon_amount": "5.00"})[0] == 200
    status, body = merchant_api.post(url, {"remedy": "compensate", "coupon_amount": "5.00"})
    assert status == 409 and body["error"]["code"] == "exception_resolved"
    assert Coupon.objects.filter(compensation_for=order).count() == 1


def test_a_remedy_the_kind_does_not_allow_is_422_naming_remedy(sku, place_order, pay, merchant_api):
    order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    status, body = merchant_api.post(f"/merchant/exceptions/{exception.pk}/resolve", {"remedy": "urge_carrier"})
    assert status == 422 and "remedy" in body["error"]["details"]["fields"]
    status, body = merchant_api.post(f"/merchant/exceptions/{exception.pk}/resolve", {"remedy": "no_action"})
    assert status == 422 and "note" in body["error"]["details"]["fields"]


def test_customer_service_cannot_hand_out_money(shop, sku, place_order, pay, merchant_api):
    order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    service = ApiClient(make_member(shop, role=Role.SERVICE).api_token.key)
    status, body = service.post(f"/merchant/exceptions/{exception.pk}/resolve", {"remedy": "compensate", "coupon_amount": "5.00"})
    assert status == 403
    status, body = service.post(f"/merchant/exceptions/{exception.pk}/resolve", {"remedy": "no_action", "note": "ok", "coupon_amount": "5"})
    assert status == 403
    assert OrderException.objects.get(pk=exception.pk).status == "open"


def test_another_shop_cannot_see_report_or_resolve(sku, place_order, pay, merchant_api):
    order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    other = ApiClient(make_member(make_shop("别家店"), username="other_owner").api_token.key)
    status, body = other.get("/merchant/exceptions")
    assert status == 200 and body["exceptions"] == []
    assert other.get(f"/merchant/exceptions/{exception.pk}")[0] == 404
    status, body = other.post(f"/merchant/exceptions/{exception.pk}/resolve", {"remedy": "compensate", "coupon_amount": "5.00"})
    assert status == 404
    status, body = other.post(f"/merchant/orders/{order.order_no}/exceptions", {"kind": "merchant_reported", "description": "x"})
    assert status == 404
    assert OrderException.objects.get(pk=exception.pk).status == "open" and not Coupon.objects.exists()


@pytest.mark.parametrize("body", [{}, {"remedy": ""}, {"remedy": "compensate", "coupon_amount": "abc"}, {"remedy": "x" * 40}])
def test_bad_resolve_bodies_are_422_never_500(sku, place_order, pay, merchant_api, body):
    order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    status, answer = merchant_api.post(f"/merchant/exceptions/{exception.pk}/resolve", body)
    assert status == 422, answer
    assert answer["error"]["details"]["fields"]
