"""A flash sale (直播秒杀): many buyers at once for a few units; refusals once sold out take no stock-row lock."""
import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.models import F

from orders.models import Buyer, Order, StockLevel
from orders.services.lifecycle import order_cancel, order_pay_timeout
from orders.services.stock import stock_set
from shop_admin.kernel.actors import Actor
from tests.concurrency import run_pooled
from tests.conftest import ApiClient
from tests.factories import make_buyer, make_sku, order_payload, stock_of


def _submit(buyer: Buyer, shop, sku) -> tuple[int, dict]:
    return ApiClient(buyer.api_token).post("/orders", order_payload(shop, (sku, 1)))


@pytest.mark.django_db(transaction=True)
def test_two_thousand_buyers_for_one_hundred_units_get_exactly_one_hundred_orders(shop):
    # given: 100 units and 2,000 buyers, each asking once, 16 at a time
    sku = make_sku(shop, stock=100)
    buyers = Buyer.objects.bulk_create([Buyer(name=f"flash-{n:04d}") for n in range(2000)])

    # when
    answers = run_pooled(lambda b: _submit(b, shop, sku), buyers, workers=16)

    # then: 100 orders, every other buyer told it is sold out, no unit sold twice
    statuses = [status for status, _ in answers]
    assert statuses.count(201) == 100
    assert statuses.count(409) == 1900
    assert {body["error"]["code"] for status, body in answers if status == 409} == {"out_of_stock"}
    assert Order.objects.filter(shop=shop).count() == 100
    assert len({body["order_no"] for status, body in answers if status == 201}) == 100
    assert stock_of(sku) == {"available": 0, "locked": 100, "occupied": 0}


@pytest.fixture
def row_held():
    """Hold the lock of a stock row from another connection (as a flash sale's busy transaction does) until the test ends."""
    release = threading.Event()
    threads = []

    def hold(level_pk: int) -> None:
        locked = threading.Event()

        def holder():
            try:
                with transaction.atomic():
                    # A payment of the order that took the last unit, still running: locked -> occupied.
                    StockLevel.objects.filter(pk=level_pk).update(locked=F("locked") - 1, occupied=F("occupied") + 1)
                    locked.set()
                    release.wait(30)
            finally:
                connection.close()

        thread = threading.Thread(target=holder)
        thread.start()
        threads.append(thread)
        assert locked.wait(10)

    yield hold
    release.set()
    for thread in threads:
        thread.join()


@pytest.mark.django_db(transaction=True)
def test_sold_out_refusal_does_not_wait_for_the_stock_row(shop, row_held):
    # given: a sold-out SKU whose stock row another transaction holds locked
    sku = make_sku(shop, stock=1)
    first = ApiClient(make_buyer().api_token).post("/orders", order_payload(shop, (sku, 1)))
    assert first[0] == 201
    row_held(StockLevel.objects.get(sku=sku).pk)

    # when: the next buyer asks, on a connection that gives up on a held row lock at once (lock_timeout)
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '300ms'")
    try:
        status, body = ApiClient(make_buyer().api_token).post("/orders", order_payload(shop, (sku, 1)))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")

    # then: refused as sold out, not an error from waiting on the lock
    assert status == 409, body
    assert body["error"]["code"] == "out_of_stock"
    assert Order.objects.filter(shop=shop).count() == 1


def _sell_out(shop, sku) -> dict:
    status, order = ApiClient(make_buyer().api_token).post("/orders", order_payload(shop, (sku, 1)))
    assert status == 201
    refused, _body = ApiClient(make_buyer().api_token).post("/orders", order_payload(shop, (sku, 1)))
    assert refused == 409
    return order


def test_stock_back_from_a_cancellation_sells_again(shop):
    sku = make_sku(shop, stock=1)
    order = _sell_out(shop, sku)
    buyer_order = Order.objects.get(order_no=order["order_no"])
    order_cancel(order=buyer_order, actor=Actor.for_buyer(buyer_order.buyer), reason="不想要了")
    status, _body = ApiClient(make_buyer().api_token).post("/orders", order_payload(shop, (sku, 1)))
    assert status == 201


def test_stock_back_from_a_pay_timeout_sells_again(shop):
    sku = make_sku(shop, stock=1)
    order = _sell_out(shop, sku)
    deadline = Order.objects.get(order_no=order["order_no"]).pay_deadline
    assert order_pay_timeout(now=deadline + timedelta(seconds=1)) == 1
    status, _body = ApiClient(make_buyer().api_token).post("/orders", order_payload(shop, (sku, 1)))
    assert status == 201


def test_stock_back_from_a_stock_edit_sells_again(shop, owner):
    sku = make_sku(shop, stock=1)
    _sell_out(shop, sku)
    level = StockLevel.objects.get(sku=sku, available=0, locked=1)
    stock_set(sku_id=sku.pk, actor=Actor.for_user(owner), on_hand=5, warehouse_id=level.warehouse_id)
    status, _body = ApiClient(make_buyer().api_token).post("/orders", order_payload(shop, (sku, 1)))
    assert status == 201
    assert stock_of(sku) == {"available": 3, "locked": 2, "occupied": 0}
