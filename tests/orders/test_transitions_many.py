"""A set-wise transition moves only the orders in its django-fsm transition's sources, with one event each."""
from orders.constants import EventKind, OrderStatus
from orders.models import Order, OrderEvent
from orders.services.common import orders_transition_many, transition_sources
from shop_admin.kernel.actors import Actor


def test_the_sources_are_the_fsm_transitions_own():
    assert transition_sources("close") == sorted(Order.close._django_fsm.transitions)
    assert OrderStatus.PENDING_PAYMENT not in transition_sources("close")
    assert transition_sources("cancel") == [OrderStatus.PENDING_PAYMENT]


def test_a_batch_close_leaves_an_order_outside_the_sources_alone(sku, buyer_api, place_order, pay):
    paid, unpaid = place_order((sku, 1)), place_order((sku, 1))
    pay(paid["order_no"])
    ids = list(Order.objects.filter(order_no__in=[paid["order_no"], unpaid["order_no"]]).values_list("pk", flat=True))
    paid_pk = Order.objects.get(order_no=paid["order_no"]).pk

    moves = orders_transition_many(
        order_ids=ids, name="close", actor=Actor.system("test"), reason="全额退款", data={paid_pk: {"refund": "1.00"}}
    )

    assert [(m.order_id, m.from_status, m.to_status) for m in moves] == [(paid_pk, OrderStatus.PAID, OrderStatus.CLOSED)]
    assert dict(Order.objects.filter(pk__in=ids).values_list("order_no", "status")) == {
        paid["order_no"]: OrderStatus.CLOSED,
        unpaid["order_no"]: OrderStatus.PENDING_PAYMENT,
    }
    events = OrderEvent.objects.filter(order_id__in=ids, kind=EventKind.TRANSITION, to_status=OrderStatus.CLOSED)
    assert list(events.values_list("order_id", "from_status", "data")) == [(paid_pk, OrderStatus.PAID, {"refund": "1.00"})]


def test_a_pay_timeout_batch_cancels_and_frees_only_the_unpaid_orders_lines(shop, buyer_api, place_order, pay):
    from datetime import timedelta

    from django.utils import timezone

    from orders.constants import LineStock
    from orders.models import OrderLine
    from orders.services.lifecycle import order_pay_timeout
    from tests.factories import make_sku, stock_of

    tea, cup = make_sku(shop, price="10.00", stock=10, name="茶"), make_sku(shop, price="20.00", stock=10, name="杯")
    unpaid, paid = place_order((tea, 2), (cup, 1)), place_order((tea, 3))
    pay(paid["order_no"])
    ids = list(Order.objects.filter(order_no__in=[unpaid["order_no"], paid["order_no"]]).values_list("pk", flat=True))

    assert order_pay_timeout(now=timezone.now() + timedelta(hours=1), ids=ids) == 1
    assert order_pay_timeout(now=timezone.now() + timedelta(hours=1), ids=ids) == 0  # applied once

    assert dict(Order.objects.filter(pk__in=ids).values_list("order_no", "status")) == {
        unpaid["order_no"]: OrderStatus.CANCELLED, paid["order_no"]: OrderStatus.PAID,
    }
    assert set(OrderLine.objects.filter(order__order_no=unpaid["order_no"]).values_list("stock_state", flat=True)) == {LineStock.RELEASED}
    assert stock_of(tea) == {"available": 7, "locked": 0, "occupied": 3}
    assert stock_of(cup) == {"available": 10, "locked": 0, "occupied": 0}
    events = OrderEvent.objects.filter(order__order_no=unpaid["order_no"], kind=EventKind.TRANSITION)
    assert list(events.values_list("from_status", "to_status")) == [(OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED)]
