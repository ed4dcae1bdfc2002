"""Refund only after shipping: the unsigned parcel is intercepted first; its tracking decides between the refund and a return."""
from datetime import timedelta
from decimal import Decimal
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from aftersale.models import AfterSaleCase, AfterSaleMessage
from logistics.models import Shipment
from logistics.services.tracking import TrackingReport, tracking_events_apply
from orders.constants import OrderStatus
from orders.models import Order, OrderEvent, Refund, StockLevel


def operate(merchant_api, case_id, action, **body):
    status, answer = merchant_api.post(f"/merchant/aftersales/{case_id}/operate", {"action": action, **body})
    assert status == 200, answer
    return answer


def push(order, code: str, minutes: int = 60):
    parcel = Shipment.objects.get(order=order)
    report = TrackingReport(code=code, occurred_at=timezone.now() + timedelta(minutes=minutes), location="杭州", description=code)
    return tracking_events_apply(carrier=parcel.carrier, tracking_no=parcel.tracking_no, reports=[report])


def intercepting(order_in, open_case, merchant_api):
    """A shipped order (2 tea + 1 cup, 139.80, douyin_pay) whose refund-only claim the merchant agreed to."""
    order = order_in("shipped")
    case = open_case(order, "refund_only")
    answered = operate(merchant_api, case["id"], "agree")
    return order, case["id"], answered


def test_agreeing_asks_the_carrier_to_intercept_and_pays_nothing_yet(order_in, open_case, merchant_api, tea):
    order, case_id, answered = intercepting(order_in, open_case, merchant_api)
    assert answered["status"] == "approved" and answered["intercepted_at"] and answered["refund"] is None
    assert answered["actions"] == ["confirm_return", "message"]
    parcel = Shipment.objects.get(order=order)
    assert parcel.intercept_requested_at is not None and parcel.intercept_source == f"aftersale:{case_id}" and parcel.intercept_result == ""
    requested = OrderEvent.objects.get(order=order, kind="parcel_intercept_requested")
    assert requested.data == {"carrier": "ZTO", "tracking_no": parcel.tracking_no, "source": f"aftersale:{case_id}"}
    assert OrderEvent.objects.filter(order=order, kind="aftersale_intercepted").count() == 1
    assert not Refund.objects.filter(order=order).exists()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED
    assert StockLevel.objects.get(sku=tea).available == 98  # the goods are still out


def test_the_parcel_turned_back_refunds_closes_the_order_and_restocks_once(order_in, open_case, merchant_api, tea):
    order, case_id, _answered = intercepting(order_in, open_case, merchant_api)
    # when: the carrier reports the parcel going back (退回), twice
    assert push(order, "returned").status == "returning"
    push(order, "returned")
    # then
    case = AfterSaleCase.objects.select_related("refund").get(pk=case_id)
    assert case.status == "refunded" and case.refund.amount == Decimal("139.80") and case.refund.status == "succeeded"
    assert Refund.objects.filter(order=order).count() == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CLOSED
    assert Shipment.objects.get(order=order).intercept_result == "returned"
    assert StockLevel.objects.get(sku=tea).available == 100
    kinds = list(OrderEvent.objects.filter(order=order).order_by("pk").values_list("kind", flat=True))
    assert kinds.index("parcel_intercept_requested") < kinds.index("parcel_intercept_result") < kinds.index("aftersale_refunded")
    assert kinds.count("parcel_intercept_result") == 1 and kinds.count("stock_returned") == 1


def test_a_parcel_signed_before_the_interception_took_turns_the_claim_into_a_return(order_in, open_case, merchant_api, tea):
    order, case_id, _answered = intercepting(order_in, open_case, merchant_api)
    push(order, "signed")
    case = AfterSaleCase.objects.get(pk=case_id)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED
    assert case.status == "awaiting_return" and case.type == "return_refund" and case.refund is None
    assert "杭州仓" in case.return_address and case.due_at == case.return_deadline
    assert case.return_deadline - timezone.now() > timedelta(days=6, hours=23)
    assert AfterSaleMessage.objects.filter(case=case, author="system", body__contains="寄回").exists()
    assert OrderEvent.objects.get(order=order, kind="aftersale_intercept_failed").data["return_address"] == case.return_address
    assert StockLevel.objects.get(sku=tea).available == 98
    # the return then runs its own clock: not shipped within 7 days, the sweep closes the case
    out = StringIO()
    call_command("sweep_deadlines", "--at", case.return_deadline.isoformat(), stdout=out)
    assert "aftersale_return_timeout: 1" in out.getvalue()
    assert AfterSaleCase.objects.get(pk=case_id).status == "closed" and not Refund.objects.filter(order=order).exists()


def test_the_merchant_may_confirm_the_parcel_back_before_its_tracking_says_so(order_in, open_case, merchant_api, tea):
    order, case_id, _answered = intercepting(order_in, open_case, merchant_api)
    answered = operate(merchant_api, case_id, "confirm_return")
    assert answered["status"] == "refunded" and answered["refund"]["amount"] == "139.80"
    assert StockLevel.objects.get(sku=tea).available == 100
    push(order, "returned")  # the tracking catching up changes nothing
    assert Refund.objects.filter(order=order).count() == 1 and AfterSaleCase.objects.get(pk=case_id).status == "refunded"


def test_no_answer_by_the_deadline_intercepts_too(order_in, open_case):
    order = order_in("shipped")
    case = open_case(order, "refund_only")
    deadline = AfterSaleCase.objects.get(pk=case["id"]).reply_deadline
    out = StringIO()
    call_command("sweep_deadlines", "--at", deadline.isoformat(), stdout=out)
    assert "aftersale_reply_timeout: 1" in out.getvalue()
    assert AfterSaleCase.objects.get(pk=case["id"]).status == "approved"
    assert Shipment.objects.get(order=order).intercept_requested_at is not None
    assert not Refund.objects.filter(order=order).exists()
    push(order, "returned")
    assert AfterSaleCase.objects.get(pk=case["id"]).status == "refunded"


def test_an_order_of_another_shop_cannot_be_pushed_into_a_refund_through_the_merchant_api(order_in, open_case, merchant_api, stranger_api):
    _order, case_id, _answered = intercepting(order_in, open_case, merchant_api)
    status, _body = stranger_api.post(f"/merchant/aftersales/{case_id}/operate", {"action": "confirm_return"})
    assert status == 404
    assert AfterSaleCase.objects.get(pk=case_id).status == "approved"
