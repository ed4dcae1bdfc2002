"""The bell in a real browser: a payment arriving in the background appears under the bell without a reload, and
opening it marks it read for this merchant.

The payment goes through the buyer API and the signed payment callback (in the test thread, as the payment channel
would, while the merchant's page just sits there); the page learns of it only through the bell's htmx poll.
"""
import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from orders.models import Order
from shop_admin.kernel.models import Shop
from tests import factories
from tests.conftest import ApiClient

pytestmark = pytest.mark.django_db(transaction=True)

SHOP_1 = "抖店演示旗舰店"
BELL_WAIT_MS = 15_000  # the bell polls every 5 s
BELL_SCREENSHOT = "/tmp/e2e-bell.png"


def pay_in_background(shop: Shop) -> str:
    """A new buyer orders one unit of a fresh SKU of the shop and pays; returns the order number."""
    buyer_api = ApiClient(factories.make_buyer("e2e_bell_buyer").api_token)
    sku = factories.make_sku(shop, price="12.50", stock=5, name="铃铛测试商品")
    status, placed = buyer_api.post("/orders", factories.order_payload(shop, (sku, 1)))
    assert status == 201, placed
    status, payment = buyer_api.post(f"/orders/{placed['order_no']}/payments", {"channel": "douyin_pay"})
    assert status == 201, payment
    body = factories.callback_body(payment, txn=f"TXN-E2E-BELL-{payment['payment_id']}")
    status, result = ApiClient().post(
        "/callbacks/payment", raw=body, headers=factories.signed_headers(body, settings.PAYMENT_CALLBACK_SECRET)
    )
    assert status == 200, result
    return placed["order_no"]


def test_a_payment_in_the_background_rings_the_bell_and_opening_it_marks_it_read(demo, browser_session):
    session = browser_session
    page = session.page
    session.sign_in("merchant")
    session.goto("/orders/")
    bell = page.locator("#todo-bell")
    count = page.locator("#todo-count")
    panel = page.locator("#todo-panel")

    # The demo's recent orders and cases are there already: read them all, so what comes next stands out.
    bell.locator("summary").click()
    expect(panel.locator(".todo-head")).to_contain_text("待办")
    read_all = panel.get_by_role("button", name="全部标为已读")
    if read_all.count():
        read_all.click()
    expect(count).to_have_text("")
    expect(panel.locator("li.unread")).to_have_count(0)
    page.evaluate("window.__e2eNoReload = true")

    order_no = pay_in_background(Shop.objects.get(name=SHOP_1))

    item = panel.locator("li.unread", has_text=order_no)
    expect(item).to_have_count(1, timeout=BELL_WAIT_MS)
    expect(item).to_contain_text("新的已支付订单")
    expect(count).to_have_text(re.compile(r"^[1-9]\d*$"))
    assert page.evaluate("window.__e2eNoReload === true"), "the bell changed by reloading the page"
    page.screenshot(path=BELL_SCREENSHOT)
    unread_before = int(count.inner_text())

    with page.expect_navigation(wait_until="load"):
        item.get_by_role("button").click()

    order = Order.objects.get(order_no=order_no)
    page.wait_for_url(session.url(f"/orders/{order.order_no}/"))
    expect(page.locator("#order-status")).to_have_text("待发货")
    expect(count).to_have_text("" if unread_before == 1 else str(unread_before - 1))
    bell.locator("summary").click()
    expect(panel.locator("li.read", has_text=order_no)).to_have_count(1)
    expect(panel.locator("li.unread", has_text=order_no)).to_have_count(0)
    assert session.js_errors == [] and session.failed_requests == []
