"""The console in a real browser, as a merchant uses it: sign in, the dashboard, filter, ship, reveal a phone, other
shops' orders, the keyboard, the language.

Each test starts from the demo's data (`demo`: what seed_demo made, put back before every test; the database is
flushed after every test) before the browser acts, and checks what the page shows; the ORM is only used to pick an
order and to confirm what the page claims.
"""
import re

import pytest
from playwright.sync_api import expect

from logistics.models import Shipment
from orders.constants import EventKind, OrderStatus
from orders.models import Order
from shop_admin.kernel.console import dashboard_tiles
from tests.e2e.conftest import TIMEOUT_MS

pytestmark = pytest.mark.django_db(transaction=True)

SHOP_1 = "抖店演示旗舰店"
SHOP_2 = "小李的杂货铺"
DASHBOARD_SCREENSHOT = "/tmp/e2e-dashboard.png"
DETAIL_SCREENSHOT = "/tmp/e2e-detail.png"


def shippable_order() -> Order:
    """A paid order of shop 1 that nothing stops from shipping."""
    order = Order.objects.filter(
        shop__name=SHOP_1, status=OrderStatus.PAID, on_hold=False, needs_risk_review=False, is_frozen=False
    ).order_by("pk").first()
    assert order is not None, "seed_demo made no shippable paid order in shop 1"
    return order


def unused_zto_number() -> str:
    """A ZTO waybill number (7 + 13 digits) no shipment uses yet."""
    for n in range(12345, 12445):
        number = f"7310000{n:07d}"
        if not Shipment.objects.filter(carrier="ZTO", tracking_no=number).exists():
            return number
    raise AssertionError("no free ZTO number")


def mark_page(page) -> None:
    """Leave a marker on the window: it survives htmx swaps and disappears on a full page load."""
    page.evaluate("window.__e2eNoReload = true")


def still_same_page(page) -> bool:
    return page.evaluate("window.__e2eNoReload === true")


def is_htmx(response) -> bool:
    return response.request.headers.get("hx-request") == "true"


# 1 ------------------------------------------------------------------------------------------------------------------


def test_merchant_signs_in_and_sees_todo_tiles_and_charts(demo, browser_session):
    shop_orders = Order.objects.filter(shop__name=SHOP_1)
    to_pay = shop_orders.filter(status=OrderStatus.PENDING_PAYMENT).count()
    to_ship = shop_orders.filter(status=OrderStatus.PAID).count()
    page = browser_session.page

    browser_session.sign_in("merchant")

    assert page.url == browser_session.url("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    expect(page.locator("header")).to_contain_text(SHOP_1)
    tiles = page.locator(".tiles .tile")
    expect(tiles).to_have_count(len(dashboard_tiles()))  # every app's registered tile, none lost
    for label in ("待支付", "待发货", "即将超时发货", "异常订单", "支付失败待召回", "风控审核", "物流停滞", "待处理售后"):
        expect(tiles.filter(has_text=label)).to_have_count(1)
    expect(tiles.filter(has_text="待支付").locator("strong")).to_have_text(str(to_pay))
    expect(tiles.filter(has_text="待发货").locator("strong")).to_have_text(str(to_ship))
    assert to_ship > 0

    # Static files come from the live server (htmx from node_modules via STATICFILES_DIRS, Chart.js likewise).
    for path in ("/static/vendor/htmx/htmx.min.js", "/static/vendor/chartjs/chart.umd.min.js", "/static/console/console.js"):
        response = page.request.get(browser_session.url(path), timeout=TIMEOUT_MS)
        assert response.status == 200, f"{path}: {response.status}"
    page.wait_for_function("() => typeof window.htmx !== 'undefined' && !!htmx.version", timeout=TIMEOUT_MS)

    # Chart.js drew both charts on real, visible canvases, with the seeded month in them.
    page.wait_for_function(
        "() => typeof Chart !== 'undefined' && Chart.getChart('chart-orders') !== undefined"
        " && Chart.getChart('chart-refunds') !== undefined",
        timeout=TIMEOUT_MS,
    )
    for canvas_id in ("chart-orders", "chart-refunds"):
        box = page.locator(f"#{canvas_id}").bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0, (canvas_id, box)
    chart = page.evaluate(
        """() => { const c = Chart.getChart('chart-orders');
                   return {days: c.data.labels.length, orders: c.data.datasets[0].data.reduce((a, b) => a + b, 0),
                           width: c.width, height: c.height}; }"""
    )
    assert chart["days"] == 30
    assert chart["orders"] > 0
    assert chart["width"] > 0 and chart["height"] > 0

    page.screenshot(path=DASHBOARD_SCREENSHOT, full_page=True)
    assert browser_session.failed_requests == []
    assert browser_session.js_errors == []


# 2 ------------------------------------------------------------------------------------------------------------------


def test_order_list_filters_by_status_tab_and_search_without_reloading(demo, browser_session):
    order = shippable_order()
    same_phone_paid = Order.objects.filter(shop=order.shop, status=OrderStatus.PAID, phone=order.phone).count()
    page = browser_session.page
    browser_session.sign_in("merchant")
    browser_session.goto("/orders/")

    page.locator("nav.tabs a", has_text="待发货").click()
    page.wait_for_url(re.compile(r"/orders/\?status=paid$"))
    expect(page.locator("nav.tabs a[aria-current=page]")).to_contain_text("待发货")
    expect(page.locator("form.filters select[name=status]")).to_have_value("paid")
    table = page.locator("#order-table")
    expect(table.locator("tbody tr").first).to_contain_text("待发货")

    # Search by order number: htmx swaps the table in place and pushes the URL.
    mark_page(page)
    search = page.locator("input[data-search]")
    search.fill(order.order_no)
    with page.expect_response(lambda r: "/orders/?" in r.url and is_htmx(r)) as answer:
        page.get_by_role("button", name="筛选", exact=True).click()
    assert answer.value.status == 200
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_role("link", name=order.order_no)).to_be_visible()
    expect(rows.first).to_contain_text("待发货")
    assert still_same_page(page), "the filter reloaded the whole page instead of swapping #order-table"
    page.wait_for_url(re.compile(rf"[?&]q={order.order_no}"))

    # Search by the buyer's phone: every paid order of that phone, the phone masked.
    masked = f"{order.phone[:3]}****{order.phone[-4:]}"
    search.fill(order.phone)
    with page.expect_response(lambda r: "/orders/?" in r.url and is_htmx(r)):
        search.press("Enter")
    expect(rows).to_have_count(min(same_phone_paid, 20))
    expect(table.get_by_role("link", name=order.order_no)).to_have_count(1 if same_phone_paid <= 20 else 0)
    for row in rows.all():
        expect(row).to_contain_text(masked)
        expect(row).to_contain_text("待发货")
    expect(table).not_to_contain_text(order.phone)
    assert still_same_page(page)
    assert browser_session.js_errors == []


# 3 ------------------------------------------------------------------------------------------------------------------


def test_merchant_ships_a_paid_order_with_a_zto_number(demo, browser_session):
    order = shippable_order()
    tracking_no = unused_zto_number()
    page = browser_session.page
    browser_session.sign_in("merchant")
    browser_session.goto(f"/orders/{order.order_no}/")
    expect(page.locator("#order-status")).to_have_text("待发货")
    expect(page.locator("#timeline")).not_to_contain_text("待发货 → 已发货")

    page.get_by_label("快递公司").select_option(label="中通")
    page.get_by_label("快递单号").fill(tracking_no)
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="发货", exact=True).click()

    assert page.url == browser_session.url(f"/orders/{order.order_no}/")
    expect(page.locator("#order-status")).to_have_text("已发货")
    expect(page.locator(".messages")).to_contain_text("已发货")
    expect(page.locator("#timeline")).to_contain_text("待发货 → 已发货")
    expect(page.get_by_role("region", name="物流")).to_contain_text(tracking_no)
    expect(page.get_by_role("region", name="物流")).to_contain_text("中通")
    page.screenshot(path=DETAIL_SCREENSHOT, full_page=True)

    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert Shipment.objects.get(order=order).tracking_no == tracking_no
    assert browser_session.js_errors == []


# 4 ------------------------------------------------------------------------------------------------------------------


def test_merchant_reveals_the_masked_phone(demo, browser_session):
    order = shippable_order()
    assert re.fullmatch(r"1\d{10}", order.phone)
    page = browser_session.page
    browser_session.sign_in("merchant")
    browser_session.goto(f"/orders/{order.order_no}/")
    phone = page.locator("#phone")
    expect(phone).to_have_text(f"{order.phone[:3]}****{order.phone[-4:]}")
    expect(page.locator("main")).not_to_contain_text(order.phone)

    mark_page(page)
    with page.expect_response(lambda r: r.url.endswith(f"/orders/{order.order_no}/reveal-phone/")) as answer:
        page.get_by_role("button", name="查看", exact=True).click()
    assert answer.value.status == 200
    expect(phone).to_have_text(re.compile(r"^1\d{10}$"))
    expect(phone).to_have_text(order.phone)
    assert still_same_page(page)
    assert order.events.filter(kind=EventKind.PHONE_REVEALED, actor_label="merchant").count() == 1  # the look is logged
    assert browser_session.js_errors == []


# 5 ------------------------------------------------------------------------------------------------------------------


def test_another_shops_merchant_gets_a_404_for_the_order(demo, browser_session):
    order = shippable_order()
    page = browser_session.page
    browser_session.sign_in("merchant2")
    expect(page.locator("header")).to_contain_text(SHOP_2)

    response = browser_session.goto(f"/orders/{order.order_no}/")

    assert response.status == 404
    body = page.locator("body")
    expect(body).not_to_contain_text(order.order_no)
    expect(body).not_to_contain_text(order.recipient_name)
    expect(body).not_to_contain_text(order.phone[-4:])
    expect(page.locator("#order-status")).to_have_count(0)

    # Nor does the order list find it.
    browser_session.goto(f"/orders/?q={order.order_no}")
    expect(page.locator("#order-table tbody tr")).to_have_count(1)
    expect(page.locator("#order-table")).to_contain_text("没有符合条件的订单")
    expect(page.locator("#order-table")).not_to_contain_text(order.order_no)


# 6 ------------------------------------------------------------------------------------------------------------------


def test_keyboard_slash_focuses_search_and_tab_reaches_the_filter_button(demo, browser_session):
    page = browser_session.page
    browser_session.sign_in("merchant")
    browser_session.goto("/orders/")
    page.locator("h1").click()  # focus in the page, on nothing editable

    page.keyboard.press("/")
    expect(page.locator("input[data-search]")).to_be_focused()
    expect(page.locator("input[data-search]")).to_have_value("")  # the "/" was not typed into it

    button = page.get_by_role("button", name="筛选", exact=True)
    visited = []
    for _ in range(30):
        page.keyboard.press("Tab")
        visited.append(page.evaluate("(() => { const e = document.activeElement; return e.name || e.textContent.trim() || e.tagName; })()"))
        if button.evaluate("b => b === document.activeElement"):
            break
    expect(button).to_be_focused()
    assert visited.index("筛选") <= 20, visited

    # And Enter on it filters, as a click would.
    page.locator("input[data-search]").fill("蜂蜜柚子茶")
    button.focus()
    with page.expect_response(lambda r: "/orders/?" in r.url and is_htmx(r)):
        page.keyboard.press("Enter")
    expect(page.locator("#order-table tbody tr").first).to_contain_text("蜂蜜柚子茶")


# 7 ------------------------------------------------------------------------------------------------------------------


def test_switching_the_language_to_english(demo, browser_session):
    page = browser_session.page
    browser_session.sign_in("merchant")
    browser_session.goto("/orders/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    with page.expect_navigation(wait_until="load"):
        page.locator("header select[name=language]").select_option("en")

    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.url == browser_session.url("/orders/")  # `next` brought the merchant back where they were
    expect(page.locator("header select[name=language]")).to_have_value("en")
    # The choice sticks for the next page.
    browser_session.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
