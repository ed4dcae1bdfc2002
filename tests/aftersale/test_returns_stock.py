"""Returned goods go back on sale once the return passes inspection, in the warehouse they left, with their audit event."""
from datetime import timedelta
from io import StringIO

from django.core.management import call_command

from aftersale.models import AfterSaleCase
from orders.models import OrderEvent, OrderLine, StockLevel


def operate(merchant_api, case_id, action, **body):
    status, answer = merchant_api.post(f"/merchant/aftersales/{case_id}/operate", {"action": action, **body})
    assert status == 200, answer
    return answer


def returned_to_the_shop(order_in, open_case, merchant_api, buyer_api, tea, quantity=1):
    """A delivered order (2 tea, 1 cup) with a return of `quantity` tea received by the merchant, not yet inspected."""
    order = order_in("delivered")
    case = open_case(order, "return_refund", items=[{"sku_id": tea.pk, "quantity": quantity}])
    operate(merchant_api, case["id"], "agree")
    status, body = buyer_api.post(f"/aftersales/{case['id']}/return-shipment", {"carrier": "ZTO", "tracking_no": "731000009876543"})
    assert status == 200, body
    operate(merchant_api, case["id"], "confirm_return")
    return order, case["id"]


def counts(sku):
    level = StockLevel.objects.get(sku=sku)
    return level.available, level.occupied, level.locked


def test_a_return_that_passes_inspection_goes_back_to_available_stock(order_in, open_case, merchant_api, buyer_api, tea):
    # given: 100 tea, 2 of them shipped with the order, 1 sent back and received
    order, case_id = returned_to_the_shop(order_in, open_case, merchant_api, buyer_api, tea)
    assert counts(tea) == (98, 0, 0)  # received is not yet inspected: nothing back on sale
    # when: the merchant inspects and refunds
    operate(merchant_api, case_id, "refund")
    # then: the one unit is on sale again, once, and the timeline says so
    assert counts(tea) == (99, 0, 0)
    line = OrderLine.objects.get(order=order, sku=tea)
    assert line.returned_quantity == 1 and line.stock_state == "deducted"
    event = OrderEvent.objects.get(order=order, kind="stock_returned")
    assert event.data["source"] == f"aftersale:{case_id}"
    assert event.data["lines"] == [{"line_id": line.pk, "sku_id": tea.pk, "quantity": 1, "stock_level_id": line.stock_level_id}]
    assert event.actor_kind == "user"


def test_a_return_refunded_by_the_inspection_deadline_is_restocked_too(order_in, open_case, merchant_api, buyer_api, tea):
    order, case_id = returned_to_the_shop(order_in, open_case, merchant_api, buyer_api, tea, quantity=2)
    deadline = AfterSaleCase.objects.get(pk=case_id).inspect_deadline
    out = StringIO()
    call_command("sweep_deadlines", "--at", (deadline - timedelta(minutes=1)).isoformat(), stdout=out)
    assert counts(tea) == (98, 0, 0)
    call_command("sweep_deadlines", "--at", deadline.isoformat(), stdout=out)
    call_command("sweep_deadlines", "--at", (deadline + timedelta(hours=1)).isoformat(), stdout=out)  # once
    assert AfterSaleCase.objects.get(pk=case_id).status == "refunded"
    assert counts(tea) == (100, 0, 0)
    assert OrderEvent.objects.filter(order=order, kind="stock_returned").count() == 1


def test_a_return_rejected_at_inspection_is_not_restocked(order_in, open_case, merchant_api, buyer_api, tea):
    order, case_id = returned_to_the_shop(order_in, open_case, merchant_api, buyer_api, tea)
    operate(merchant_api, case_id, "reject", reason="商品已使用，不符合退货条件", evidence=["https://img.example.com/used.jpg"])
    assert counts(tea) == (98, 0, 0)
    assert not OrderEvent.objects.filter(order=order, kind="stock_returned").exists()


def test_two_cases_on_one_line_bring_back_each_unit_once(order_in, open_case, merchant_api, buyer_api, tea):
    order, case_id = returned_to_the_shop(order_in, open_case, merchant_api, buyer_api, tea)
    operate(merchant_api, case_id, "refund")
    # a second case on the same line for the other unit
    second = open_case(order, "return_refund", items=[{"sku_id": tea.pk, "quantity": 1}])
    operate(merchant_api, second["id"], "agree")
    operate(merchant_api, second["id"], "confirm_return")  # a return shipped without a tracking number in the app
    operate(merchant_api, second["id"], "refund")
    assert counts(tea) == (100, 0, 0)
    assert OrderLine.objects.get(order=order, sku=tea).returned_quantity == 2
