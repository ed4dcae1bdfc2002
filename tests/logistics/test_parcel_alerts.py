"""Parcel alerts before the 72 h stall: no pickup scan in 24 h, not signed by the expected time; each closes when its scan comes."""
from datetime import timedelta

from django.utils import timezone

from logistics.models import Shipment
from orders.constants import ExceptionKind, ExceptionStatus
from orders.models import OrderException
from shop_admin.kernel.deadlines import deadlines_sweep
from tests.logistics.conftest import TRACKING_NO


def alert(order_no: str, kind: str) -> OrderException | None:
    return OrderException.objects.filter(order__order_no=order_no, kind=kind).first()


def test_no_scan_24_hours_after_shipping_opens_pickup_overdue_and_the_collected_scan_closes_it(shipped, push, merchant_api, console):
    shipped_at = Shipment.objects.get(tracking_no=TRACKING_NO).shipped_at

    assert deadlines_sweep(now=shipped_at + timedelta(hours=23, minutes=59))["shipment_pickup_timeout"] == 0
    assert deadlines_sweep(now=shipped_at + timedelta(hours=24))["shipment_pickup_timeout"] == 1
    assert deadlines_sweep(now=shipped_at + timedelta(hours=30))["shipment_pickup_timeout"] == 0  # alerted once

    exception = alert(shipped["order_no"], ExceptionKind.PICKUP_OVERDUE)
    assert exception.status == ExceptionStatus.OPEN and exception.data["tracking_no"] == TRACKING_NO
    _, listed = merchant_api.get("/merchant/exceptions?kind=pickup_overdue")
    [row] = listed["exceptions"]
    assert "urge_carrier" in row["remedies"] and "24" in row["detail"]
    page = console.get("/exceptions/?kind=pickup_overdue").content.decode()
    assert "揽收超时" in page and shipped["order_no"] in page

    status, _ = push(TRACKING_NO, ("collected", shipped_at + timedelta(hours=26), "杭州", "已揽收"))

    assert status == 200
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.RESOLVED and exception.resolved_by_label


def test_a_parcel_scanned_in_time_raises_no_pickup_alert(shipped, push):
    shipped_at = Shipment.objects.get(tracking_no=TRACKING_NO).shipped_at
    push(TRACKING_NO, ("collected", shipped_at + timedelta(hours=2), "杭州", "已揽收"))

    assert deadlines_sweep(now=shipped_at + timedelta(hours=25))["shipment_pickup_timeout"] == 0
    assert alert(shipped["order_no"], ExceptionKind.PICKUP_OVERDUE) is None


def test_not_signed_5_days_after_shipping_opens_delivery_overdue_and_signing_closes_it(shipped, push, merchant_api):
    shipped_at = Shipment.objects.get(tracking_no=TRACKING_NO).shipped_at
    push(TRACKING_NO, ("collected", shipped_at + timedelta(hours=2), "杭州", "已揽收"))
    for day in (1, 2, 3, 4):  # moving every day: never stalled, just slow
        push(TRACKING_NO, ("in_transit", shipped_at + timedelta(days=day), "途中", "运输中"))

    assert deadlines_sweep(now=shipped_at + timedelta(days=4, hours=23))["shipment_delivery_timeout"] == 0
    assert deadlines_sweep(now=shipped_at + timedelta(days=5))["shipment_delivery_timeout"] == 1
    exception = alert(shipped["order_no"], ExceptionKind.DELIVERY_OVERDUE)
    assert exception.status == ExceptionStatus.OPEN
    _, listed = merchant_api.get("/merchant/exceptions?kind=delivery_overdue")
    assert {"urge_carrier", "reship"} <= set(listed["exceptions"][0]["remedies"])

    push(TRACKING_NO, ("signed", shipped_at + timedelta(days=5, hours=3), "买家", "已签收"))

    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.RESOLVED
    assert alert(shipped["order_no"], ExceptionKind.PICKUP_OVERDUE) is None


def test_an_event_that_is_not_the_signature_leaves_delivery_overdue_open(shipped, push):
    shipped_at = Shipment.objects.get(tracking_no=TRACKING_NO).shipped_at
    push(TRACKING_NO, ("collected", shipped_at + timedelta(hours=2), "杭州", "已揽收"))
    deadlines_sweep(now=shipped_at + timedelta(days=5))

    push(TRACKING_NO, ("out_for_delivery", timezone.now() + timedelta(days=5, hours=1), "上海", "派送中"))

    assert alert(shipped["order_no"], ExceptionKind.DELIVERY_OVERDUE).status == ExceptionStatus.OPEN
