"""Deadlines of fulfilment, applied by the sweep at a given time: stalled parcels, paid but not shipped, fresh produce refunded."""
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from logistics.models import Shipment
from orders.constants import ExceptionKind, ExceptionStatus, LedgerKind, OrderStatus
from orders.models import LedgerEntry, Order, OrderException
from tests.factories import ADDRESS, make_sku, stock_of
from tests.logistics.conftest import TRACKING_NO


def sweep(at) -> str:
    out = StringIO()
    call_command("sweep_deadlines", "--at", at.isoformat(), stdout=out)
    return out.getvalue()


def stalled_exception(order_no: str) -> OrderException:
    return OrderException.objects.get(order__order_no=order_no, kind=ExceptionKind.STALLED_LOGISTICS)


# --- stalled parcels ---


def test_a_parcel_without_events_for_72_hours_stalls_and_a_new_event_clears_it(shipped, push, merchant_api, console):
    # given: collected, then silence
    collected_at = timezone.now().replace(microsecond=0)
    push(TRACKING_NO, ("collected", collected_at, "杭州转运中心", "已揽收"))
    # when: the sweep runs just before and just after 72 h
    assert "shipment_stall_timeout: 0" in sweep(collected_at + timedelta(hours=71, minutes=59))
    assert "shipment_stall_timeout: 1" in sweep(collected_at + timedelta(hours=72))
    assert "shipment_stall_timeout: 0" in sweep(collected_at + timedelta(hours=80))
    # then: the parcel is stalled, the order has the exception with its evidence
    shipment = Shipment.objects.get(tracking_no=TRACKING_NO)
    assert shipment.stalled_at is not None
    exception = stalled_exception(shipped["order_no"])
    assert exception.status == ExceptionStatus.OPEN
    assert exception.data["tracking_no"] == TRACKING_NO
    assert exception.data["idle_hours"] == 72
    assert exception.data["last_event"]["location"] == "杭州转运中心"
    status, view = merchant_api.get(f"/merchant/orders/{shipped['order_no']}")
    assert view["shipments"][0]["stalled"] is True
    assert view["shipments"][0]["idle_hours"] >= 0
    page = console.get("/logistics/?stalled=1").content.decode()
    assert TRACKING_NO in page and 'class="stalled error"' in page
    # when: tracking resumes
    push(TRACKING_NO, ("in_transit", collected_at + timedelta(hours=74), "上海", "运输中"))
    # then: cleared by the system, and a new deadline counts from the new event
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.RESOLVED
    shipment.refresh_from_db()
    assert shipment.stalled_at is None
    assert shipment.stall_deadline == collected_at + timedelta(hours=74 + 72)
    status, view = merchant_api.get(f"/merchant/orders/{shipped['order_no']}")
    assert view["shipments"][0]["stalled"] is False


def test_resolving_the_stall_by_hand_clears_the_flag_and_a_new_silence_stalls_again(shipped, push, merchant_api):
    # given: a stalled parcel with its open exception
    collected_at = timezone.now().replace(microsecond=0)
    push(TRACKING_NO, ("collected", collected_at, "杭州转运中心", "已揽收"))
    assert "shipment_stall_timeout: 1" in sweep(collected_at + timedelta(hours=73))
    exception = stalled_exception(shipped["order_no"])
    # when: the merchant urges the carrier and resolves it, tracking still quiet
    status, body = merchant_api.post(f"/merchant/exceptions/{exception.pk}/resolve", {"remedy": "urge_carrier", "note": "已催"})
    assert status == 200, body
    # then: the parcel no longer shows as stalled, anywhere
    shipment = Shipment.objects.get(tracking_no=TRACKING_NO)
    assert shipment.stalled_at is None
    status, view = merchant_api.get(f"/merchant/orders/{shipped['order_no']}")
    assert view["shipments"][0]["stalled"] is False
    status, listed = merchant_api.get("/merchant/exceptions")
    assert not [e for e in listed["exceptions"] if e["kind"] == "stalled_logistics"]
    # and the sweep does not raise it again at once, but after another 72 h of silence it does
    resolved_at = shipment.stall_deadline - timedelta(hours=72)
    assert "shipment_stall_timeout: 0" in sweep(resolved_at + timedelta(hours=71))
    assert "shipment_stall_timeout: 1" in sweep(resolved_at + timedelta(hours=72, minutes=1))
    shipment.refresh_from_db()
    assert shipment.stalled_at is not None
    assert OrderException.objects.filter(
        order__order_no=shipped["order_no"], kind=ExceptionKind.STALLED_LOGISTICS, status=ExceptionStatus.OPEN
    ).exclude(pk=exception.pk).exists()


def test_a_parcel_never_scanned_stalls_72_hours_after_shipping(shipped):
    shipment = Shipment.objects.get(tracking_no=TRACKING_NO)
    assert shipment.stall_deadline == shipment.shipped_at + timedelta(hours=72)
    assert "shipment_stall_timeout: 1" in sweep(shipment.shipped_at + timedelta(hours=73))
    assert stalled_exception(shipped["order_no"]).data["last_event"] is None


def test_a_signed_parcel_never_stalls(shipped, push):
    push(TRACKING_NO, ("signed", timezone.now(), "西湖区"))
    assert "shipment_stall_timeout: 0" in sweep(timezone.now() + timedelta(days=30))
    assert not OrderException.objects.filter(kind=ExceptionKind.STALLED_LOGISTICS).exists()


# --- auto-confirm windows by kind and region ---


@pytest.mark.parametrize("kind, window", [("normal", 7), ("remote", 10), ("fresh", 3), ("presale", 5)])
def test_signed_sets_auto_confirm_by_kind_and_region(shop, buyer_api, pay, ship, push, kind, window):
    address = dict(ADDRESS)
    fields = {}
    if kind == "remote":
        address.update(province="西藏自治区", city="拉萨市", district="城关区")
    elif kind == "fresh":
        fields = {"is_fresh": True}
    elif kind == "presale":
        fields = {
            "is_presale": True, "presale_deposit_ratio": Decimal("0.20"),
            "presale_balance_due": timezone.now() + timedelta(days=3), "presale_ship_days": 7,
        }
    sku = make_sku(shop, **fields)
    status, order = buyer_api.post("/orders", {"shop_id": shop.pk, "items": [{"sku_id": sku.pk, "quantity": 1}], "address": address})
    assert status == 201, order
    pay(order["order_no"])
    if kind == "presale":
        pay(order["order_no"])  # the balance
    ship(order["order_no"])
    signed_at = timezone.now().replace(microsecond=0)
    push(TRACKING_NO, ("signed", signed_at, "门口"))
    delivered = Order.objects.get(order_no=order["order_no"])
    assert delivered.status == OrderStatus.DELIVERED
    assert delivered.auto_confirm_at == signed_at + timedelta(days=window)


# --- the ship deadline: paid and not shipped, fresh produce refunded ---


def test_paid_and_not_shipped_within_48_hours_opens_the_exception_once_and_shipping_resolves_it(sku, place_order, pay, ship, merchant_api):
    order = place_order((sku, 1))
    pay(order["order_no"])
    paid = Order.objects.get(order_no=order["order_no"])
    assert paid.ship_deadline - paid.paid_at == timedelta(hours=48)
    assert "order_ship_timeout: 0" in sweep(paid.ship_deadline - timedelta(minutes=1))
    assert "order_ship_timeout: 1" in sweep(paid.ship_deadline + timedelta(minutes=1))
    assert "order_ship_timeout: 0" in sweep(paid.ship_deadline + timedelta(hours=5))
    exception = OrderException.objects.get(order=paid, kind=ExceptionKind.PAID_NOT_SHIPPED)
    assert exception.status == ExceptionStatus.OPEN
    status, view = merchant_api.get(f"/merchant/orders/{order['order_no']}")
    assert [(e["kind"], e["status"]) for e in view["exceptions"]] == [("paid_not_shipped", "open")]
    # when: the merchant ships late
    ship(order["order_no"])
    # then
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.RESOLVED
    assert Order.objects.get(pk=paid.pk).status == OrderStatus.SHIPPED


def test_fresh_produce_not_shipped_within_2_hours_is_refunded_automatically(shop, place_order, pay):
    cherries = make_sku(shop, name="车厘子", is_fresh=True, stock=10)
    order = place_order((cherries, 2))
    pay(order["order_no"])
    paid = Order.objects.get(order_no=order["order_no"])
    assert paid.ship_deadline - paid.paid_at == timedelta(hours=2)
    assert stock_of(cherries)["occupied"] == 2
    assert "order_ship_timeout: 1" in sweep(paid.ship_deadline + timedelta(seconds=1))
    closed = Order.objects.get(pk=paid.pk)
    assert closed.status == OrderStatus.CLOSED
    assert LedgerEntry.objects.get(order=closed, kind=LedgerKind.REFUND_OUT).amount == closed.paid_amount
    assert stock_of(cherries) == {"available": 10, "locked": 0, "occupied": 0}
    assert not OrderException.objects.filter(order=closed, kind=ExceptionKind.PAID_NOT_SHIPPED).exists()
    assert "order_ship_timeout: 0" in sweep(paid.ship_deadline + timedelta(hours=1))


def test_fresh_produce_shipped_in_time_is_not_refunded(shop, place_order, pay, ship):
    cherries = make_sku(shop, name="车厘子", is_fresh=True)
    order = place_order((cherries, 1))
    pay(order["order_no"])
    ship(order["order_no"])
    assert "order_ship_timeout: 0" in sweep(timezone.now() + timedelta(hours=3))
    assert Order.objects.get(order_no=order["order_no"]).status == OrderStatus.SHIPPED


def test_one_wake_up_per_parcel_that_follows_the_deadline_as_events_move_it(shipped, push, redis_conn, django_capture_on_commit_callbacks):
    from rq.registry import ScheduledJobRegistry

    from logistics.services.stall import shipment_stall_timeout
    from shop_admin.kernel.queues import rq_queue

    registry = ScheduledJobRegistry(queue=rq_queue("deadlines"))
    shipment = Shipment.objects.get(tracking_no=TRACKING_NO)
    first_deadline = shipment.stall_deadline
    # given: a push moves the deadline later without asking Redis for anything
    with django_capture_on_commit_callbacks(execute=True):
        push(TRACKING_NO, ("in_transit", first_deadline - timedelta(hours=10), "上海"))
    shipment.refresh_from_db()
    assert shipment.stall_deadline == first_deadline + timedelta(hours=62)
    assert len(registry.get_job_ids()) == 0  # the shipping-time job was never enqueued in this test's Redis
    # when: the wake-up of the old deadline fires
    with django_capture_on_commit_callbacks(execute=True):
        assert shipment_stall_timeout(now=first_deadline, ids=[shipment.pk]) == 0
    # then: nothing stalled, and the parcel sleeps until its new deadline
    [job_id] = registry.get_job_ids()
    assert job_id == f"deadline-shipment_stall_timeout-{shipment.pk}-{int(shipment.stall_deadline.timestamp())}"
    assert shipment_stall_timeout(now=shipment.stall_deadline, ids=[shipment.pk]) == 1
