"""Orders in the states after-sale starts from, and a second shop's merchant who must see none of it."""
from decimal import Decimal

import pytest

from orders.models import Order
from orders.services.lifecycle import order_confirm_receipt, order_mark_delivered
from shop_admin.kernel.actors import Actor
from tests.conftest import ApiClient
from tests.factories import make_member, make_shop, make_sku


@pytest.fixture
def tea(sku):
    return sku


@pytest.fixture
def cup(shop):
    return make_sku(shop, price="20.00", stock=10, name="玻璃杯")


@pytest.fixture
def order_in(place_order, pay, merchant_api, tea, cup):
    """An order of 2 x 59.90 tea and 1 x 20.00 cup (139.80) brought to `state`: paid, shipped, delivered or completed."""

    def make(state: str, *, channel: str = "douyin_pay") -> Order:
        placed = place_order((tea, 2), (cup, 1))
        pay(placed["order_no"], channel=channel)
        order = Order.objects.get(order_no=placed["order_no"])
        if state in ("shipped", "delivered", "completed"):
            status, body = merchant_api.post(f"/merchant/orders/{order.order_no}/ship", {"carrier": "ZTO", "tracking_no": f"7310000{order.pk:07d}"})
            assert status == 200, body
        if state in ("delivered", "completed"):
            order_mark_delivered(order=Order.objects.get(pk=order.pk), actor=Actor.channel("ZTO"))
        if state == "completed":
            order_confirm_receipt(order=Order.objects.get(pk=order.pk), actor=Actor.for_buyer(order.buyer))
        return Order.objects.get(pk=order.pk)

    return make


@pytest.fixture
def open_case(buyer_api):
    """Open a case through the buyer API and return its JSON (asserting 201)."""

    def make(order: Order, case_type: str = "return_refund", **body):
        payload = {"type": case_type, "reason": body.pop("reason", "质量问题"), "evidence": ["https://img.example.com/a.jpg"], **body}
        status, case = buyer_api.post(f"/orders/{order.order_no}/aftersales", payload)
        assert status == 201, case
        return case

    return make


@pytest.fixture
def stranger_api(db):
    """The owner of another shop, with an open-API token."""
    return ApiClient(make_member(make_shop("隔壁店"), username="stranger").api_token.key)


D = Decimal
