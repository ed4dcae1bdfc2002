"""After-sale's timeline event kinds are after-sale's: orders names none of them, after-sale registers them all."""
from aftersale.constants import AfterSaleEventKind
from orders.constants import EventKind
from orders.events import order_event_kind_choices


def test_orders_names_no_aftersale_event_kind():
    # orders knows no cases, so it cannot own the kind of a case being opened
    assert not set(EventKind.values) & set(AfterSaleEventKind.values)
    assert "aftersale_opened" not in EventKind.values


def test_aftersale_registers_every_kind_of_its_own_with_the_timeline():
    registered = dict(order_event_kind_choices())
    for kind, label in AfterSaleEventKind.choices:
        assert registered[kind] == label
