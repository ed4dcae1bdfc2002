"""The carriers' tracking push: signed, applied once, kept in time order, and the order following its parcel."""
from datetime import timedelta

import pytest
from django.utils import timezone

from logistics.models import Shipment, TrackingEvent
from orders.constants import ExceptionKind, ExceptionStatus, OrderStatus
from orders.models import Order, OrderException
from tests.logistics.conftest import TRACKING_NO


def parcel() -> Shipment:
    return Shipment.objects.get(tracking_no=TRACKING_NO)


def test_each_event_is_stored_once_however_often_it_is_pushed(shipped, push, t0):
    # given
    collected = ("collected", t0, "杭州转运中心", "快件已揽收")
    moving = ("in_transit", t0 + timedelta(hours=3), "上海", "运输中")
    # when
    status, first = push(TRACKING_NO, collected, moving)
    again_status, again = push(TRACKING_NO, collected, moving, moving)
    # then
    assert (status, first["applied"], first["duplicates"]) == (200, 2, 0)
    assert (again_status, again["result"], again["applied"], again["duplicates"]) == (200, "duplicate", 0, 3)
    assert TrackingEvent.objects.filter(shipment=parcel()).count() == 2


def test_events_arriving_out_of_order_are_shown_in_time_order_and_the_latest_by_time_wins(shipped, push, merchant_api, t0):
    # when: the signature arrives first, the earlier steps later
    push(TRACKING_NO, ("signed", t0 + timedelta(hours=20), "西湖区快递柜", "已签收，取件码1234"))
    push(TRACKING_NO, ("out_for_delivery", t0 + timedelta(hours=18), "西湖区", "派件中"), ("collected", t0, "杭州", "已揽收"))
    # then
    status, view = merchant_api.get(f"/merchant/orders/{shipped['order_no']}")
    assert status == 200
    shipment = view["shipments"][0]
    assert [e["code"] for e in shipment["events"]] == ["collected", "out_for_delivery", "signed"]
    assert shipment["status"] == "signed"
    assert view["status"] == OrderStatus.DELIVERED
    assert shipment["events"][-1]["location"] == "西湖区快递柜"


def test_a_late_older_event_does_not_move_the_parcel_back(shipped, push, t0):
    push(TRACKING_NO, ("out_for_delivery", t0 + timedelta(hours=5), "西湖区"))
    push(TRACKING_NO, ("collected", t0, "杭州"))
    shipment = parcel()
    assert shipment.last_event_code == "out_for_delivery"
    assert shipment.last_event_at == t0 + timedelta(hours=5)


@pytest.mark.parametrize(
    "body_secret, stamp_offset, expected_code",
    [("wrong-secret", 0, "bad_signature"), (None, -301, "stale_signature")],
)
def test_a_bad_signature_or_a_stale_timestamp_is_refused_and_changes_nothing(shipped, push, t0, body_secret, stamp_offset, expected_code):
    status, body = push(TRACKING_NO, ("signed", t0), secret=body_secret, at=int(timezone.now().timestamp()) + stamp_offset)
    assert status == 401
    assert body["error"]["code"] == expected_code
    assert TrackingEvent.objects.count() == 0
    assert Order.objects.get(order_no=shipped["order_no"]).status == OrderStatus.SHIPPED


def test_an_unknown_tracking_number_is_a_404_naming_it(shipped, push, t0):
    status, body = push("SF9999999999999", ("collected", t0))
    assert status == 404
    assert body["error"]["code"] == "shipment_not_found"
    assert body["error"]["details"]["fields"]["tracking_no"] == "SF9999999999999"


def test_an_unknown_code_is_a_422_naming_the_field(shipped, push, t0):
    status, body = push(TRACKING_NO, ("teleported", t0))
    assert status == 422
    assert "events.0.code" in body["error"]["details"]["fields"]


@pytest.mark.parametrize(
    "code, shipment_status, order_status",
    [
        ("collected", "in_transit", OrderStatus.SHIPPED),
        ("in_transit", "in_transit", OrderStatus.SHIPPED),
        ("out_for_delivery", "in_transit", OrderStatus.SHIPPED),
        ("signed", "signed", OrderStatus.DELIVERED),
        ("rejected", "rejected", OrderStatus.REJECTED),
        ("returned", "returning", OrderStatus.SHIPPED),
        ("problem", "in_transit", OrderStatus.SHIPPED),
    ],
)
def test_each_code_moves_the_parcel_and_the_order(shipped, push, t0, code, shipment_status, order_status):
    status, body = push(TRACKING_NO, (code, t0, "杭州", "说明"))
    assert status == 200, body
    assert body["status"] == shipment_status
    assert parcel().status == shipment_status
    assert Order.objects.get(order_no=shipped["order_no"]).status == order_status


def test_signed_delivers_the_order_and_starts_auto_confirm_from_the_signing_time(shipped, push, t0):
    signed_at = t0 + timedelta(hours=30)
    push(TRACKING_NO, ("signed", signed_at, "西湖区", "本人签收"))
    order = Order.objects.get(order_no=shipped["order_no"])
    assert order.status == OrderStatus.DELIVERED
    assert order.delivered_at == signed_at
    assert order.auto_confirm_at == signed_at + timedelta(days=7)
    shipment = parcel()
    assert (shipment.status, shipment.signed_at, shipment.stall_deadline) == ("signed", signed_at, None)


def test_a_problem_parcel_opens_a_logistics_exception_and_tracking_resumed_closes_it(shipped, push, merchant_api, t0):
    push(TRACKING_NO, ("problem", t0, "西湖区", "地址不详，联系不上收件人"))
    exception = OrderException.objects.get(order__order_no=shipped["order_no"], kind=ExceptionKind.STALLED_LOGISTICS)
    assert exception.status == ExceptionStatus.OPEN
    assert exception.data["reason"] == "problem"
    assert exception.data["tracking_no"] == TRACKING_NO
    assert "地址不详" in exception.detail_text
    status, view = merchant_api.get(f"/merchant/orders/{shipped['order_no']}")
    assert [(e["kind"], e["status"]) for e in view["exceptions"]] == [("stalled_logistics", "open")]

    push(TRACKING_NO, ("out_for_delivery", t0 + timedelta(hours=2), "西湖区", "已联系上，再次派送"))
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.RESOLVED


def test_a_returned_parcel_is_shown_as_going_back_to_the_shop(shipped, push, console, t0):
    push(TRACKING_NO, ("rejected", t0, "西湖区", "拒收"), ("returned", t0 + timedelta(hours=1), "西湖区", "退回寄件人"))
    assert parcel().status == "returning"
    assert Order.objects.get(order_no=shipped["order_no"]).status == OrderStatus.REJECTED
    page = console.get(f"/orders/{shipped['order_no']}/").content.decode()
    assert "退回商家中" in page


def test_the_order_page_shows_the_tracking_timeline(shipped, push, console, t0):
    push(TRACKING_NO, ("collected", t0, "杭州转运中心", "快件已揽收"), ("in_transit", t0 + timedelta(hours=4), "上海转运中心", "运输中"))
    page = console.get(f"/orders/{shipped['order_no']}/").content.decode()
    assert "杭州转运中心" in page and "上海转运中心" in page
    assert page.index("上海转运中心") < page.index("杭州转运中心")  # newest first
