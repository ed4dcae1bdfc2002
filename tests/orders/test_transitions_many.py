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
