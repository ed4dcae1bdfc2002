"""Each exception kind orders raises, from its real cause; the address anomaly check; evidence and deadlines on the record."""
from datetime import timedelta

from django.conf import settings

from orders.constants import ExceptionKind
from orders.models import Order, OrderException
from orders.services.lifecycle import order_mark_delivered, order_risk_approve
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.constants import Role
from tests.conftest import ApiClient
from tests.factories import ADDRESS, callback_body, make_member, order_payload
from tests.orders.exception_helpers import deliver, oversold_order, stray_payment_order


def _kinds(order_no: str) -> set[str]:
    return set(OrderException.objects.filter(order__order_no=order_no, status="open").values_list("kind", flat=True))


def test_oversell_from_stock_forced_below_occupied_holds_with_ship_by_deadline(sku, place_order, pay, merchant_api):
    order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    assert order.on_hold
    assert exception.deadline == order.ship_deadline


def test_payment_anomaly_from_success_after_cancellation(sku, place_order, buyer_api, api):
    order, exception = stray_payment_order(sku=sku, place_order=place_order, buyer_api=buyer_api, api=api)
    assert exception.kind == ExceptionKind.PAYMENT_ANOMALY and exception.deadline is not None


def test_payment_anomaly_from_a_wrong_amount(sku, place_order, buyer_api, api):
    placed = place_order((sku, 1))
    _s, payment = buyer_api.post(f"/orders/{placed['order_no']}/payments", {"channel": "wechat"})
    deliver(api, callback_body(payment, txn="WX-WRONG", amount="1.00"))
    assert _kinds(placed["order_no"]) == {ExceptionKind.PAYMENT_ANOMALY}


def test_payment_anomaly_from_too_many_payment_attempts_freezes_the_order(sku, place_order, buyer_api, merchant_api):
    # given: one attempt more than the setting allows
    placed = place_order((sku, 1))
    for _ in range(settings.PAYMENT_MAX_ATTEMPTS + 1):
        buyer_api.post(f"/orders/{placed['order_no']}/payments", {"channel": "wechat"})
    # then: a payment anomaly (not a risk review) says why, and the order is frozen
    assert _kinds(placed["order_no"]) == {ExceptionKind.PAYMENT_ANOMALY}
    exception = OrderException.objects.get(order__order_no=placed["order_no"])
    assert exception.data == {
        "reason": "too_many_attempts", "attempts": settings.PAYMENT_MAX_ATTEMPTS + 1, "detail_params": {"n": settings.PAYMENT_MAX_ATTEMPTS}
    }
    assert exception.detail_text == f"支付尝试超过{settings.PAYMENT_MAX_ATTEMPTS}次，订单冻结待审核"
    assert Order.objects.get(order_no=placed["order_no"]).is_frozen
    status, body = buyer_api.post(f"/orders/{placed['order_no']}/payments", {"channel": "wechat"})
    assert (status, body["error"]["code"]) == (409, "order_frozen")
    # when: the merchant settles the anomaly after looking at the payments
    status, body = merchant_api.post(f"/merchant/exceptions/{exception.pk}/resolve", {"remedy": "no_action", "note": "买家本人操作"})
    assert status == 200, body
    # then: the freeze is lifted with it
    assert not Order.objects.get(order_no=placed["order_no"]).is_frozen


def test_only_a_risk_reviewer_lifts_a_freeze_by_settling_the_anomaly(shop, sku, place_order, buyer_api):
    # given: a frozen order and customer service, who may resolve other exceptions but not review risk
    placed = place_order((sku, 1))
    for _ in range(settings.PAYMENT_MAX_ATTEMPTS + 1):
        buyer_api.post(f"/orders/{placed['order_no']}/payments", {"channel": "wechat"})
    exception = OrderException.objects.get(order__order_no=placed["order_no"])
    service = ApiClient(make_member(shop, role=Role.SERVICE).api_token.key)
    # when
    status, body = service.post(f"/merchant/exceptions/{exception.pk}/resolve", {"remedy": "no_action", "note": "看过了"})
    # then: refused, the order still frozen and the anomaly open
    assert (status, body["error"]["code"]) == (403, "role_forbidden")
    assert Order.objects.get(order_no=placed["order_no"]).is_frozen
    assert _kinds(placed["order_no"]) == {ExceptionKind.PAYMENT_ANOMALY}


def test_approving_a_frozen_order_settles_its_payment_anomaly(sku, place_order, buyer_api):
    placed = place_order((sku, 1))
    for _ in range(settings.PAYMENT_MAX_ATTEMPTS + 1):
        buyer_api.post(f"/orders/{placed['order_no']}/payments", {"channel": "wechat"})
    order = order_risk_approve(order=Order.objects.get(order_no=placed["order_no"]), actor=Actor.system("test"))
    assert not order.is_frozen and _kinds(placed["order_no"]) == set()


def test_not_received_from_the_buyer_after_signing_has_a_15_day_deadline(sku, place_order, pay, merchant_api, buyer_api):
    placed = place_order((sku, 1))
    pay(placed["order_no"])
    merchant_api.post(f"/merchant/orders/{placed['order_no']}/ship", {"carrier": "中通", "tracking_no": "73100000000009"})
    order = order_mark_delivered(order=Order.objects.get(order_no=placed["order_no"]), actor=Actor.channel("ZTO"))
    status, body = buyer_api.post(f"/orders/{placed['order_no']}/not-received", {"description": "快递柜里没有"})
    assert status == 201, body
    exception = OrderException.objects.get(pk=body["id"])
    assert exception.deadline == order.delivered_at + settings.LOGISTICS_LOSS_APPEAL_WINDOW


def test_address_missing_the_unit_the_buyer_usually_gives_is_flagged(shop, sku, buyer_api):
    # given a buyer who always writes the building and room
    for _ in range(2):
        assert buyer_api.post("/orders", order_payload(shop, (sku, 1)))[0] == 201
    # when a new order leaves them out
    slip = dict(ADDRESS, detail="文三路478号华星时代广场")
    status, body = buyer_api.post("/orders", {**order_payload(shop, (sku, 1)), "address": slip})
    # then it is accepted but flagged before shipping
    assert status == 201, body
    exception = OrderException.objects.get(order__order_no=body["order_no"])
    assert exception.kind == ExceptionKind.ADDRESS_ANOMALY and "门牌" in exception.detail_text
    assert not Order.objects.get(order_no=body["order_no"]).on_hold


def test_usual_address_and_first_orders_are_not_flagged(shop, sku, buyer_api):
    status, first = buyer_api.post("/orders", {**order_payload(shop, (sku, 1)), "address": dict(ADDRESS, detail="文三路478号")})
    for _ in range(2):
        status, body = buyer_api.post("/orders", order_payload(shop, (sku, 1)))
    assert not OrderException.objects.exists()


def test_district_not_of_the_city_is_refused_at_submission_and_at_address_change_not_flagged_later(shop, sku, buyer_api):
    # given an order placed with a good address
    status, placed = buyer_api.post("/orders", order_payload(shop, (sku, 1)))
    assert status == 201, placed
    wrong = dict(ADDRESS, district="朝阳区")  # Beijing's, while the city is Hangzhou
    # when the buyer submits, or changes the address to, a district of another city
    submitted = buyer_api.post("/orders", {**order_payload(shop, (sku, 1)), "address": wrong})
    changed = buyer_api.post(f"/orders/{placed['order_no']}/address", {"address": wrong})
    # then both are refused naming the district, so no order ever carries it for the anomaly check to find
    for status, answer in (submitted, changed):
        assert status == 422, answer
        assert "朝阳区不属于杭州市" in str(answer["error"]["details"])
    assert Order.objects.count() == 1
    assert Order.objects.get(order_no=placed["order_no"]).district == ADDRESS["district"]
    assert not OrderException.objects.exists()


def test_evidence_can_be_attached_to_an_open_exception_and_is_audited(sku, place_order, pay, merchant_api, owner):
    from orders.services.exceptions import exception_evidence_add

    order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    exception_evidence_add(exception=exception, actor=Actor.for_user(owner), evidence=["https://x.example/chat.png"])
    exception.refresh_from_db()
    assert exception.evidence == ["https://x.example/chat.png"]
    assert order.events.filter(kind="exception_evidence").exists()


def test_exception_deadline_for_paid_not_shipped_is_seven_days_from_ordering(sku, place_order, pay):
    from orders.services.exceptions import exception_deadline

    placed = place_order((sku, 1))
    order = Order.objects.get(order_no=placed["order_no"])
    due = exception_deadline(order=order, kind=ExceptionKind.PAID_NOT_SHIPPED, now=order.created_at + timedelta(days=3))
    assert due == order.created_at + timedelta(days=7)
