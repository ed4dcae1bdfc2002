"""After-sale through the API: the buyer opens and follows a case, the ERP lists and answers it, every type to its end."""
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from aftersale.models import AfterSaleCase
from orders.constants import LedgerKind, OrderStatus
from orders.models import LedgerEntry, Order, OrderEvent
from tests.factories import stock_of

D = Decimal


def refunded(order) -> Decimal:
    return sum((e.amount for e in LedgerEntry.objects.filter(order=order, kind=LedgerKind.REFUND_OUT)), D("0.00"))


def operate(merchant_api, case, action, **body):
    return merchant_api.post(f"/merchant/aftersales/{case['id']}/operate", {"action": action, **body})


# --- opening a case ---


def test_a_case_covers_the_whole_order_by_default_and_claims_what_was_paid(order_in, open_case, buyer_api):
    order = order_in("delivered")
    case = open_case(order, "return_refund")
    assert case["status"] == "requested" and case["douyin_code"] == 6
    assert case["amount"] == "139.80"
    assert sorted((ln["product_name"], ln["quantity"]) for ln in case["lines"]) == [("玻璃杯", 1), ("蜂蜜柚子茶", 2)]
    assert case["reply_deadline"] and case["evidence"] == ["https://img.example.com/a.jpg"]
    status, again = buyer_api.get(f"/aftersales/{case['id']}")
    assert status == 200 and again["messages"][0]["author"] == "buyer"


def test_a_claim_above_what_was_paid_for_its_lines_is_refused_naming_the_line(order_in, buyer_api, tea):
    order = order_in("delivered")
    status, error = buyer_api.post(
        f"/orders/{order.order_no}/aftersales",
        {"type": "refund_only", "reason": "破损", "items": [{"sku_id": tea.pk, "quantity": 1}], "amount": "59.91"},
    )
    assert status == 422
    assert error["error"]["details"]["fields"]["amount"] == "最多可退59.90元"
    assert error["error"]["details"]["lines"][0]["sku_id"] == tea.pk
    status, error = buyer_api.post(
        f"/orders/{order.order_no}/aftersales", {"type": "refund_only", "reason": "破损", "items": [{"sku_id": tea.pk, "quantity": 3}]}
    )
    assert status == 422 and "items.0.quantity" in error["error"]["details"]["fields"]
    status, error = buyer_api.post(f"/orders/{order.order_no}/aftersales", {"type": "teleport", "reason": "x"})
    assert status == 422 and "type" in error["error"]["details"]["fields"]
    assert not AfterSaleCase.objects.exists()


def test_one_open_case_per_line(order_in, open_case, buyer_api, tea, cup):
    order = order_in("delivered")
    open_case(order, "exchange", items=[{"sku_id": tea.pk, "quantity": 1}])
    status, error = buyer_api.post(
        f"/orders/{order.order_no}/aftersales", {"type": "refund_only", "reason": "x", "items": [{"sku_id": tea.pk, "quantity": 1}]}
    )
    assert status == 409 and error["error"]["code"] == "aftersale_already_open"
    # another line of the same order is free
    open_case(order, "refund_only", items=[{"sku_id": cup.pk, "quantity": 1}])


def test_an_order_past_its_after_sale_window_is_refused_with_the_reason(order_in, buyer_api):
    order = order_in("completed")
    Order.objects.filter(pk=order.pk).update(completed_at=timezone.now() - timedelta(days=8))
    status, error = buyer_api.post(f"/orders/{order.order_no}/aftersales", {"type": "return_refund", "reason": "x"})
    assert status == 409 and error["error"]["code"] == "aftersale_window_closed"
    assert "7天" in error["error"]["message"]


def test_another_buyer_and_another_shop_cannot_see_the_case(order_in, open_case, api, stranger_api):
    from tests.conftest import ApiClient
    from tests.factories import make_buyer

    case = open_case(order_in("delivered"))
    assert ApiClient(make_buyer("eve").api_token).get(f"/aftersales/{case['id']}")[0] == 404
    assert stranger_api.get(f"/merchant/aftersales/{case['id']}")[0] == 404
    assert stranger_api.post(f"/merchant/aftersales/{case['id']}/operate", {"action": "agree"})[0] == 404
    status, listing = stranger_api.get("/merchant/aftersales")
    assert status == 200 and listing["after_sales"] == []


# --- every type to its end ---


def test_refund_only_before_shipping_refunds_at_once_and_closes_the_order(order_in, open_case, merchant_api, tea):
    order = order_in("paid")
    case = open_case(order, "refund_only")
    status, answered = operate(merchant_api, case, "agree")
    assert status == 200, answered
    assert answered["status"] == "refunded" and answered["douyin_code"] == 12
    assert answered["refund"] == {"refund_id": answered["refund"]["refund_id"], "status": "succeeded", "amount": "139.80"}
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CLOSED
    assert stock_of(tea)["occupied"] == 0 and stock_of(tea)["available"] == 100
    assert refunded(order) == D("139.80")


def test_refund_only_after_shipping_intercepts_the_unsigned_parcel_first(order_in, open_case, merchant_api):
    order = order_in("shipped", channel="wechat")
    case = open_case(order, "refund_only")
    status, answered = operate(merchant_api, case, "agree")
    assert status == 200 and answered["intercepted_at"] and answered["status"] == "approved"
    assert answered["refund"] is None  # the money waits for the parcel (tests/aftersale/test_intercept.py)
    intercepted = OrderEvent.objects.get(order=order, kind="aftersale_intercepted")
    assert intercepted.data["carrier"] == "ZTO" and intercepted.data["tracking_no"]


def test_return_and_refund_all_the_way_with_deductions(order_in, open_case, merchant_api, buyer_api, tea):
    order = order_in("delivered")
    case = open_case(order, "return_refund", items=[{"sku_id": tea.pk, "quantity": 2}])
    assert case["amount"] == "119.80"
    status, agreed = operate(merchant_api, case, "agree")
    assert agreed["status"] == "awaiting_return" and agreed["douyin_code"] == 7 and agreed["return_deadline"]

    status, error = buyer_api.post(f"/aftersales/{case['id']}/return-shipment", {"carrier": "顺丰", "tracking_no": "123"})
    assert status == 422 and "tracking_no" in error["error"]["details"]["fields"]
    status, shipped = buyer_api.post(f"/aftersales/{case['id']}/return-shipment", {"carrier": "顺丰", "tracking_no": "SF1234567890123"})
    assert status == 200 and shipped["status"] == "returning"
    assert shipped["return_shipment"] == {"carrier": "SF", "tracking_no": "SF1234567890123"}

    status, received = operate(merchant_api, case, "confirm_return")
    assert received["status"] == "inspecting" and received["douyin_code"] == 11 and received["inspect_deadline"]
    status, error = operate(merchant_api, case, "refund", deductions=[{"reason": "运费", "amount": "200.00"}])
    assert status == 422 and "deductions" in error["error"]["details"]["fields"]
    status, done = operate(merchant_api, case, "refund", deductions=[{"reason": "包装破损", "amount": "9.80"}])
    assert status == 200 and done["status"] == "refunded"
    assert done["refund"]["amount"] == "110.00" and done["deductions"] == [{"reason": "包装破损", "amount": "9.80"}]
    assert refunded(order) == D("110.00")
    # the order stays delivered (the cup was not refunded) and its auto-confirm runs again
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED and order.auto_confirm_at is not None


def test_exchange_ends_with_the_merchant_reshipping(order_in, open_case, merchant_api, buyer_api, cup):
    order = order_in("delivered")
    case = open_case(order, "exchange", items=[{"sku_id": cup.pk, "quantity": 1}])
    assert case["amount"] is None
    operate(merchant_api, case, "agree")
    buyer_api.post(f"/aftersales/{case['id']}/return-shipment", {"carrier": "ZTO", "tracking_no": "731000009999901"})
    operate(merchant_api, case, "confirm_return")
    status, done = operate(merchant_api, case, "reship", carrier="YTO", tracking_no="YT1234567890123")
    assert status == 200 and done["status"] == "reshipped" and done["douyin_code"] == 13
    assert done["reship"] == {"carrier": "YTO", "tracking_no": "YT1234567890123"}
    assert refunded(order) == 0


def test_reship_missing_items(order_in, open_case, merchant_api):
    case = open_case(order_in("delivered"), "reship", reason="少发一个杯子")
    status, agreed = operate(merchant_api, case, "agree")
    assert agreed["status"] == "approved" and agreed["actions"] == ["reship", "message"]
    status, done = operate(merchant_api, case, "reship", carrier="ZTO", tracking_no="731000008888801")
    assert done["status"] == "reshipped"


def test_repair_goes_back_and_forth_like_an_exchange(order_in, open_case, merchant_api, buyer_api):
    case = open_case(order_in("delivered"), "repair", reason="不通电")
    operate(merchant_api, case, "agree")
    buyer_api.post(f"/aftersales/{case['id']}/return-shipment", {"carrier": "JT", "tracking_no": "JT1234567890123"})
    operate(merchant_api, case, "confirm_return")
    status, done = operate(merchant_api, case, "reship", carrier="JT", tracking_no="JT1234567890999")
    assert done["status"] == "reshipped"


# --- refusals ---


def test_an_action_the_state_does_not_allow_is_409(order_in, open_case, merchant_api):
    case = open_case(order_in("delivered"), "return_refund")
    status, error = operate(merchant_api, case, "refund")
    assert status == 409 and error["error"]["code"] == "invalid_transition"
    assert "待商家处理" in error["error"]["message"]
    status, error = operate(merchant_api, case, "confirm_return")
    assert status == 409


def test_reject_needs_reason_and_evidence_then_the_buyer_may_escalate(order_in, open_case, merchant_api, buyer_api):
    case = open_case(order_in("delivered"), "refund_only")
    status, error = operate(merchant_api, case, "reject", reason="")
    assert status == 422 and set(error["error"]["details"]["fields"]) == {"reason", "evidence"}
    status, rejected = operate(merchant_api, case, "reject", reason="商品无质量问题", evidence=["https://img.example.com/qc.jpg"])
    assert rejected["status"] == "rejected" and rejected["douyin_code"] == 27 and rejected["appeal_deadline"]
    assert rejected["actions"] == []
    status, escalated = buyer_api.post(f"/aftersales/{case['id']}/arbitration", {"reason": "商品确实有划痕"})
    assert status == 201 and escalated["status"] == "arbitrating"
    status, again = buyer_api.post(f"/aftersales/{case['id']}/arbitration", {"reason": "again"})
    assert status == 409


def test_arbitration_is_refused_more_than_7_days_after_the_rejection(order_in, open_case, merchant_api, buyer_api):
    case = open_case(order_in("delivered"), "refund_only")
    operate(merchant_api, case, "reject", reason="无问题", evidence=["https://img.example.com/qc.jpg"])
    AfterSaleCase.objects.filter(pk=case["id"]).update(appeal_deadline=timezone.now() - timedelta(minutes=1))
    status, error = buyer_api.post(f"/aftersales/{case['id']}/arbitration", {"reason": "晚了"})
    assert status == 409 and error["error"]["code"] == "arbitration_window_closed"


def test_a_clerk_without_money_rights_cannot_refund_but_can_answer(order_in, open_case, shop):
    from shop_admin.kernel.constants import Role
    from tests.conftest import ApiClient
    from tests.factories import make_member

    clerk = ApiClient(make_member(shop, role=Role.SERVICE).api_token.key)
    case = open_case(order_in("delivered"), "return_refund")
    status, _body = clerk.post(f"/merchant/aftersales/{case['id']}/operate", {"action": "message", "message": "请提供照片"})
    assert status == 200
    AfterSaleCase.objects.filter(pk=case["id"]).update(status="inspecting")
    status, error = clerk.post(f"/merchant/aftersales/{case['id']}/operate", {"action": "refund"})
    assert status == 403


# --- the ERP's list ---


def test_the_merchant_list_puts_the_nearest_deadline_first_and_pages(order_in, open_case, merchant_api):
    cases = [open_case(order_in("delivered")) for _ in range(3)]
    AfterSaleCase.objects.filter(pk=cases[2]["id"]).update(due_at=timezone.now() + timedelta(hours=1))
    status, page = merchant_api.get("/merchant/aftersales?limit=2")
    assert status == 200
    assert [c["id"] for c in page["after_sales"]] == [cases[2]["id"], cases[0]["id"]]
    assert page["after_sales"][0]["douyin_code"] == 6 and "agree" in page["after_sales"][0]["actions"]
    status, rest = merchant_api.get(f"/merchant/aftersales?limit=2&cursor={page['next_cursor']}")
    assert [c["id"] for c in rest["after_sales"]] == [cases[1]["id"]] and rest["next_cursor"] is None
    status, filtered = merchant_api.get("/merchant/aftersales?status=refunded")
    assert filtered["after_sales"] == []
    assert merchant_api.get("/merchant/aftersales?cursor=bogus")[0] == 422
