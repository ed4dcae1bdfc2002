"""What the browser tests of the merchant's own tools share: orders brought along as a buyer and a carrier would, and
the console's language switched as a merchant switches it."""
from django.conf import settings
from django.utils import timezone

from orders.models import Order
from orders.services.lifecycle import order_confirm_receipt, order_mark_delivered
from shop_admin.kernel.actors import Actor
from tests import factories
from tests.conftest import ApiClient

LANGUAGE_LABEL = {"zh-hans": "语言", "en": "Language"}  # the switch is labelled in the language the page is in


def language_switch(page, *, now: str, to: str) -> None:
    with page.expect_navigation(wait_until="load"):
        page.get_by_label(LANGUAGE_LABEL[now]).select_option(to)


def order_delivered(*, shop, owner, buyer_api: ApiClient, items, tracking_no: str) -> Order:
    """An order placed and paid through the buyer API, shipped through the merchant API, signed for by the carrier."""
    status, placed = buyer_api.post("/orders", factories.order_payload(shop, *items))
    assert status == 201, placed
    status, payment = buyer_api.post(f"/orders/{placed['order_no']}/payments", {"channel": "douyin_pay"})
    assert status == 201, payment
    body = factories.callback_body(payment, txn=f"TXN-E2E-{payment['payment_id']}")
    status, result = ApiClient().post("/callbacks/payment", raw=body, headers=factories.signed_headers(body, settings.PAYMENT_CALLBACK_SECRET))
    assert status == 200, result
    status, shipped = ApiClient(owner.api_token.key).post(
        f"/merchant/orders/{placed['order_no']}/ship", {"carrier": "ZTO", "tracking_no": tracking_no}
    )
    assert status == 200, shipped
    order_mark_delivered(order=Order.objects.get(order_no=placed["order_no"]), actor=Actor.channel("ZTO"))
    return Order.objects.get(order_no=placed["order_no"])


def order_completed(**kwargs) -> Order:
    order = order_delivered(**kwargs)
    order_confirm_receipt(order=order, actor=Actor.for_buyer(order.buyer))
    order = Order.objects.get(pk=order.pk)
    assert order.completed_at and order.completed_at <= timezone.now()
    return order
