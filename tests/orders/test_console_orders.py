"""Console pages of orders: list, filters, detail, the actions each role may take, bulk work with progress."""
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from orders.constants import EventKind, OrderStatus
from orders.models import Order, OrderEvent
from shop_admin.kernel.models import BackgroundJob
from tests.factories import make_member, make_shop, make_sku, stock_of


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.fixture
def paid_order(sku, place_order, pay):
    order = place_order((sku, 2))
    pay(order["order_no"])
    return order


# --- the list ---


def test_list_filters_by_status_with_tab_counts(console, sku, place_order, pay):
    unpaid = place_order((sku, 1))
    paid = place_order((sku, 1))
    pay(paid["order_no"])
    page = html(console.get("/orders/?status=paid"))
    assert paid["order_no"] in page and unpaid["order_no"] not in page
    assert "待发货<span class=\"count\">1</span>" in page
    assert "待支付<span class=\"count\">1</span>" in page


@pytest.mark.parametrize("how", ["order_no", "phone", "product", "tracking"])
def test_q_finds_an_order_by_number_phone_product_or_tracking(shop, console, place_order, pay, merchant_api, how):
    wanted_sku = make_sku(shop, name="智利车厘子")
    other_sku = make_sku(shop, name="蜂蜜柚子茶")
    other = place_order((other_sku, 1))
    wanted = place_order((wanted_sku, 1), address={"name": "李四", "phone": "13912345678", "province": "浙江省", "city": "杭州市", "district": "西湖区", "detail": "文三路1号"})
    pay(wanted["order_no"])
    merchant_api.post(f"/merchant/orders/{wanted['order_no']}/ship", {"carrier": "SF", "tracking_no": "SF1234567890123"})
    q = {"order_no": wanted["order_no"], "phone": "13912345678", "product": "车厘子", "tracking": "sf1234567890123"}[how]
    page = html(console.get("/orders/", {"q": q}))
    assert wanted["order_no"] in page
    assert other["order_no"] not in page


def test_date_range_and_bad_dates(console, sku, place_order):
    order = place_order((sku, 1))
    Order.objects.filter(order_no=order["order_no"]).update(created_at="2026-01-15T10:00:00+08:00")
    assert order["order_no"] in html(console.get("/orders/", {"created_from": "2026-01-15", "created_to": "2026-01-15"}))
    assert order["order_no"] not in html(console.get("/orders/", {"created_from": "2026-01-16"}))
    page = html(console.get("/orders/", {"created_from": "2026-02-01", "created_to": "2026-01-01"}))
    assert "结束日期不能早于开始日期" in page
    assert "请输入一个有效的日期" in html(console.get("/orders/", {"created_from": "yesterday"})) or "有效" in html(console.get("/orders/", {"created_from": "yesterday"}))


def test_exception_filter_and_ship_due_soon(shop, console, place_order, pay):
    big = make_sku(shop, price="6000.00")
    held = place_order((big, 1))
    pay(held["order_no"])
    normal = place_order((make_sku(shop), 1))
    pay(normal["order_no"])
    page = html(console.get("/orders/", {"exception": "risk_review"}))
    assert held["order_no"] in page and normal["order_no"] not in page
    Order.objects.filter(order_no=normal["order_no"]).update(ship_deadline=timezone.now() + timedelta(hours=1))
    page = html(console.get("/orders/", {"ship_due": "soon"}))
    assert normal["order_no"] in page and held["order_no"] not in page
    # a deadline already passed is late, not soon: it has a filter of its own
    Order.objects.filter(order_no=normal["order_no"]).update(ship_deadline="2020-01-01T00:00:00+08:00")
    assert normal["order_no"] not in html(console.get("/orders/", {"ship_due": "soon"}))
    assert normal["order_no"] in html(console.get("/orders/", {"ship_due": "overdue"}))


def test_pagination_has_next_without_counting_everything(console, sku, place_order):
    numbers = [place_order((sku, 1))["order_no"] for _ in range(25)]
    first = html(console.get("/orders/"))
    assert numbers[-1] in first and numbers[0] not in first
    assert 'rel="next"' in first
    second = html(console.get("/orders/", {"page": 2}))
    assert numbers[0] in second and 'rel="next"' not in second


def test_query_count_is_the_same_for_20_and_100_rows(console, sku, place_order):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(30):
        place_order((sku, 1))
    counts = {}
    for per_page in (20, 100):
        cache.clear()  # both measure the cold path, tab counts included
        with CaptureQueriesContext(connection) as ctx:
            html(console.get("/orders/", {"per_page": per_page, "status": "pending_payment"}))
        counts[per_page] = len(ctx.captured_queries)
    assert counts[20] == counts[100]
    assert counts[20] <= 12


def test_a_row_shows_every_line_in_order_its_open_exceptions_and_its_parcels(shop, console, place_order, pay, merchant_api):
    from orders.constants import ExceptionKind
    from orders.models import OrderException

    # given an order of two lines (a name that needs escaping), shipped, with an open exception, and a bare order
    first, second = make_sku(shop, stock=5, name="耳机 <Pro>"), make_sku(shop, stock=5, name="充电宝")
    order = place_order((first, 2), (second, 1))
    pay(order["order_no"])
    status, _body = merchant_api.post(f"/merchant/orders/{order['order_no']}/ship", {"carrier": "ZTO", "tracking_no": "73100000000999"})
    assert status == 200
    OrderException.objects.create(
        order=Order.objects.get(order_no=order["order_no"]), shop=shop, kind="oversell", status="open", detail="超卖"
    )
    bare = place_order((second, 1))
    # when the list is drawn
    page = html(console.get("/orders/"))
    row = page.split(f'value="{order["order_no"]}"')[1].split("</tr>")[0]
    bare_row = page.split(f'value="{bare["order_no"]}"')[1].split("</tr>")[0]
    # then the lines are there in order, escaped, with the exception's badge and the parcel's carrier and number
    lines = Order.objects.get(order_no=order["order_no"]).lines.order_by("pk")
    assert "<br>".join(f"{line.product_name.replace('<', '&lt;').replace('>', '&gt;')} {line.spec} ×{line.quantity}" for line in lines) in row
    assert "&lt;Pro&gt;" in row and "<Pro>" not in row
    assert f'<span class="badge bad">{ExceptionKind.OVERSELL.label}</span>' in row
    assert "73100000000999" in row and "73100000000999" not in bare_row
    assert "badge bad" not in bare_row


def test_list_rows_statement_reads_each_order_its_lines_in_order_and_its_open_exceptions(shop, console, place_order, pay):
    from decimal import Decimal

    from orders.constants import ExceptionKind
    from orders.models import OrderException
    from orders.selectors.listing import OrderListRow, _order_list_rows
    from tests.factories import make_buyer

    # given orders of one and of two lines, one with two open exceptions and a resolved one, one paid with a deadline
    first, second = make_sku(shop, stock=9, name="耳机 <Pro>"), make_sku(shop, stock=9, name="充电宝")
    one = Order.objects.get(order_no=place_order((first, 1))["order_no"])
    two_no = place_order((first, 2), (second, 1))["order_no"]
    pay(two_no)
    two = Order.objects.get(order_no=two_no)
    for kind, status in ((ExceptionKind.OVERSELL, "open"), (ExceptionKind.ADDRESS_ANOMALY, "resolved"), (ExceptionKind.RISK_REVIEW, "open")):
        OrderException.objects.create(order=two, shop=shop, kind=kind, status=status, detail="x")
    # and an order without lines, and an order of another page
    bare = Order.objects.create(
        order_no="9" * 22, shop=shop, buyer=make_buyer(), items_total=Decimal("9.90"), payable=Decimal("9.90"),
        recipient_name="李四", phone="13900139000", province="浙江省", city="杭州市", district="西湖区",
        address_detail="文三路1号", created_at=timezone.now(), pay_deadline=timezone.now(),
    )
    place_order((second, 1))
    # when the page's rows are read by the hand-written statement
    rows = _order_list_rows([one.pk, two.pk, bare.pk], using="default")

    # then each order of the page once, its columns, its lines in line order, its open exceptions' kinds in order
    def expected(order, lines, kinds):
        return OrderListRow(
            order.pk, order.order_no, order.status, order.created_at, order.recipient_name, order.phone, order.payable,
            order.ship_deadline, order.remark_flag, order.merchant_remark, lines=lines, open_exception_kinds=kinds,
        )

    assert rows == {
        one.pk: expected(one, [("耳机 <Pro>", "默认", 1)], []),
        two.pk: expected(two, [("耳机 <Pro>", "默认", 2), ("充电宝", "默认", 1)], [ExceptionKind.OVERSELL, ExceptionKind.RISK_REVIEW]),
        bare.pk: expected(bare, [], []),
    }
    assert two.status == OrderStatus.PAID and rows[two.pk].ship_deadline is not None


def test_status_tabs_and_filter_bar_follow_the_filters_and_the_language(console, sku, place_order):
    # given a pending order
    place_order((sku, 1))
    query = {"status": "pending_payment", "q": "耳机"}
    # when the list is asked with a tab and a search, and with a bad date, twice each (bars are kept per values)
    for _ in range(2):
        page = html(console.get("/orders/", query))
        # then the tab is current and counts its order, the other tabs keep the search, the bar shows the values
        assert '<a href="?q=%E8%80%B3%E6%9C%BA&status=pending_payment" aria-current="page">待支付<span class="count">1</span></a>' in page
        assert '<a href="?q=%E8%80%B3%E6%9C%BA&status=paid" >待发货<span class="count">0</span></a>' in page
        assert '<option value="pending_payment" selected>待支付</option>' in page and 'value="耳机"' in page
        assert '<span class="error" role="alert">' not in page
        assert '<a href="/orders/" aria-current="page">订单</a>' in page
        bad = html(console.get("/orders/", {**query, "created_from": "yesterday"}))
        assert '<span class="error" role="alert">' in bad and 'value="耳机"' in bad
    # and in English the same bar and tabs speak English
    console.cookies["django_language"] = "en"
    page = html(console.get("/orders/", query))
    assert "待支付" not in page and '<option value="pending_payment" selected>Awaiting payment</option>' in page
    assert 'aria-current="page">Awaiting payment<span class="count">1</span></a>' in page
    assert '<a href="/orders/" aria-current="page">Orders</a>' in page
    assert "Enter a valid date." in html(console.get("/orders/", {**query, "created_from": "yesterday"}))


def test_bulk_bar_follows_the_role_and_the_language(shop, console, sku, place_order):
    from shop_admin.kernel.constants import Role

    # given an order and a warehouse clerk beside the owner
    place_order((sku, 1))
    clerk = as_user(make_member(shop, role=Role.WAREHOUSE))
    for _ in range(2):  # (the bar is drawn once per language and role, then kept)
        # when each asks for the list, full page and htmx partial
        for client, remark in ((clerk, False), (console, True)):
            for headers in ({}, {"HX-Request": "true"}):
                page = html(client.get("/orders/", headers=headers))
                # then both may ship and print waybills, only the owner may remark in bulk; the heads are there
                assert 'value="ship" formaction="/logistics/bulk-ship/">批量发货</button>' in page
                assert 'formaction="/logistics/waybills/">打印面单</button>' in page
                assert ('name="action" value="remark">批量备注</button>' in page) is remark
                assert '<th>快递单号</th><th>备注</th>' in page
    clerk.cookies["django_language"] = "en"
    page = html(clerk.get("/orders/"))
    assert "批量发货" not in page and 'value="remark"' not in page and "<th>Tracking no.</th>" in page


def test_htmx_filter_returns_only_the_table(console, sku, place_order):
    order = place_order((sku, 1))
    partial = html(console.get("/orders/", {"q": order["order_no"]}, headers={"HX-Request": "true"}))
    assert order["order_no"] in partial
    assert "<html" not in partial


# --- the detail ---


def test_detail_shows_breakdown_masked_phone_and_timeline(console, paid_order):
    page = html(console.get(f"/orders/{paid_order['order_no']}/"))
    assert "¥119.80" in page
    assert "138****8000" in page and "13800138000" not in page
    assert "提交订单" in page and "待支付 → 待发货" in page
    assert 'action="/orders/%s/ship/"' % paid_order["order_no"] in page


def test_reveal_phone_is_logged(console, paid_order):
    response = console.post(f"/orders/{paid_order['order_no']}/reveal-phone/")
    assert "13800138000" in html(response)
    event = OrderEvent.objects.get(order__order_no=paid_order["order_no"], kind=EventKind.PHONE_REVEALED)
    assert event.actor_label == "owner"


def test_ship_from_the_detail_changes_state_and_timeline(console, sku, paid_order):
    response = console.post(f"/orders/{paid_order['order_no']}/ship/", {"carrier": "ZTO", "tracking_no": "73100000000077"}, follow=True)
    page = html(response)
    assert "已发货" in page
    assert "待发货 → 已发货" in page
    assert stock_of(sku)["occupied"] == 0


def test_refused_action_says_why_on_the_page(console, paid_order):
    response = console.post(f"/orders/{paid_order['order_no']}/ship/", {"carrier": "SF", "tracking_no": "12"}, follow=True)
    assert "不符合顺丰的单号格式" in html(response)
    response = console.post(f"/orders/{paid_order['order_no']}/cancel/", {"reason": "想取消"}, follow=True)
    assert "不能取消" in html(response)
    assert Order.objects.get(order_no=paid_order["order_no"]).status == OrderStatus.PAID


def test_close_needs_a_second_confirmation(console, sku, paid_order):
    response = console.post(f"/orders/{paid_order['order_no']}/close/", {"reason": "缺货"}, follow=True)
    assert "二次确认" in html(response)
    assert Order.objects.get(order_no=paid_order["order_no"]).status == OrderStatus.PAID
    console.post(f"/orders/{paid_order['order_no']}/close/", {"reason": "缺货", "confirm": "on"})
    assert Order.objects.get(order_no=paid_order["order_no"]).status == OrderStatus.CLOSED
    assert stock_of(sku) == {"available": 100, "locked": 0, "occupied": 0}


def test_remark_with_a_flag(console, paid_order):
    console.post(f"/orders/{paid_order['order_no']}/remark/", {"remark": "加急", "flag": "1"})
    order = Order.objects.get(order_no=paid_order["order_no"])
    assert (order.merchant_remark, order.remark_flag) == ("加急", 1)
    response = console.post(f"/orders/{paid_order['order_no']}/remark/", {"remark": "x", "flag": "9"}, follow=True)
    assert "旗帜" in html(response)


def test_the_bulk_flag_offers_the_order_pages_colours(console, paid_order):
    detail = html(console.get(f"/orders/{paid_order['order_no']}/"))
    bar = html(console.get("/orders/")).split('class="bulkbar"')[1].split("</div>")[0]
    for value, name in ((1, "红"), (3, "绿"), (5, "紫")):
        assert f'<span class="flag flag-{value}"></span> {name}' in detail
        assert f'name="flag" value="{value}"> <span class="flag flag-{value}"></span> {name}' in bar


def test_risk_review_then_ship(shop, console, place_order, pay):
    order = place_order((make_sku(shop, price="5000.00"), 1))
    pay(order["order_no"])
    page = html(console.get(f"/orders/{order['order_no']}/"))
    assert "风控审核" in page and 'action="/orders/%s/ship/"' % order["order_no"] not in page
    console.post(f"/orders/{order['order_no']}/risk-approve/", {"note": "已电话核实"})
    assert 'action="/orders/%s/ship/"' % order["order_no"] in html(console.get(f"/orders/{order['order_no']}/"))


# --- roles ---


def test_buttons_follow_the_role(shop, paid_order):
    warehouse = as_user(make_member(shop, role="warehouse"))
    service = as_user(make_member(shop, role="service"))
    page = html(warehouse.get(f"/orders/{paid_order['order_no']}/"))
    assert "/ship/" in page and "/close/" not in page and "/remark/" not in page
    # Customer service does not ship (the warehouse and the owner do): no ship form, and a crafted one is refused.
    page = html(service.get(f"/orders/{paid_order['order_no']}/"))
    assert "/ship/" not in page and "/close/" not in page and "/remark/" in page
    assert service.post(f"/orders/{paid_order['order_no']}/ship/", {"carrier": "ZTO", "tracking_no": "73100000000001"}).status_code == 403


def test_role_limits_are_enforced_not_just_hidden(shop, paid_order):
    warehouse = as_user(make_member(shop, role="warehouse"))
    service = as_user(make_member(shop, role="service"))
    assert warehouse.post(f"/orders/{paid_order['order_no']}/remark/", {"remark": "x", "flag": "0"}).status_code == 403
    assert service.post(f"/orders/{paid_order['order_no']}/close/", {"reason": "x", "confirm": "on"}).status_code == 403
    assert service.post(f"/orders/{paid_order['order_no']}/risk-approve/").status_code == 403
    assert Order.objects.get(order_no=paid_order["order_no"]).status == OrderStatus.PAID


# --- another shop ---


def test_another_shops_order_is_a_404_on_every_page_and_action(paid_order):
    stranger = as_user(make_member(make_shop("隔壁店")))
    no = paid_order["order_no"]
    assert stranger.get(f"/orders/{no}/").status_code == 404
    for path, data in [
        (f"/orders/{no}/ship/", {"carrier": "ZTO", "tracking_no": "73100000000001"}),
        (f"/orders/{no}/cancel/", {"reason": "x"}),
        (f"/orders/{no}/close/", {"reason": "x", "confirm": "on"}),
        (f"/orders/{no}/remark/", {"remark": "x", "flag": "0"}),
        (f"/orders/{no}/reveal-phone/", {}),
        (f"/orders/{no}/risk-approve/", {}),
    ]:
        assert stranger.post(path, data).status_code == 404, path
    assert Order.objects.get(order_no=no).status == OrderStatus.PAID
    assert not OrderEvent.objects.filter(order__order_no=no, kind=EventKind.PHONE_REVEALED).exists()


# --- bulk work as RQ jobs with progress ---


def test_bulk_remark_runs_as_a_job_with_progress(console, sku, place_order, run_jobs):
    numbers = [place_order((sku, 1))["order_no"] for _ in range(3)]
    with run_jobs():
        response = console.post("/orders/bulk/", {"order_no": numbers, "action": "remark", "remark": "周末发", "flag": "3"})
    assert response.status_code == 302
    job = BackgroundJob.objects.get()
    page = html(console.get(response["Location"]))
    assert "<progress" in page and 'value="100"' in page
    assert job.kind == "orders_bulk_remark"
    assert set(Order.objects.filter(order_no__in=numbers).values_list("merchant_remark", "remark_flag")) == {("周末发", 3)}


def test_bulk_ship_reports_bad_rows_and_ships_the_rest(console, sku, place_order, pay, run_jobs):
    good, bad = place_order((sku, 1)), place_order((sku, 1))
    pay(good["order_no"])
    pay(bad["order_no"])
    form = html(console.get("/logistics/bulk-ship/", {"order_no": [good["order_no"], bad["order_no"]]}))
    assert f"tracking_{good['order_no']}" in form
    with run_jobs():
        response = console.post("/logistics/bulk-ship/", {
            "order_no": [good["order_no"], bad["order_no"]],
            f"carrier_{good['order_no']}": "ZTO", f"tracking_{good['order_no']}": "73100000000555",
            f"carrier_{bad['order_no']}": "SF", f"tracking_{bad['order_no']}": "nope",
        })
    job = BackgroundJob.objects.get()
    assert (job.status, job.done, job.failed) == ("done", 1, 1)
    assert bad["order_no"] in job.errors[0] and "顺丰" in job.errors[0]
    assert Order.objects.get(order_no=good["order_no"]).status == OrderStatus.SHIPPED
    page = html(console.get(response["Location"]))
    assert "失败明细" in page


def test_export_selected_gives_the_contract_csv(console, sku, paid_order, place_order, run_jobs):
    other = place_order((sku, 1))
    with run_jobs():
        response = console.post("/orders/bulk/", {"order_no": [paid_order["order_no"]], "action": "export"})
    download = console.get(response["Location"] + "download/")
    assert download.status_code == 200
    body = b"".join(download.streaming_content)  # streamed from storage
    assert body.startswith("\ufeff".encode())
    text = body.decode("utf-8-sig")
    header = text.splitlines()[0]
    assert header.startswith("订单号,下单时间,订单状态,SKU编码,商品名称,商品规格,数量,单价,运费,优惠金额,应付金额,收件人,手机号")
    assert paid_order["order_no"] in text and other["order_no"] not in text
    assert "待发货" in text


def test_another_shops_job_is_a_404(console, sku, place_order, run_jobs):
    order = place_order((sku, 1))
    with run_jobs():
        response = console.post("/orders/bulk/", {"order_no": [order["order_no"]], "action": "export"})
    stranger = as_user(make_member(make_shop("隔壁店")))
    assert stranger.get(response["Location"]).status_code == 404
    assert stranger.get(response["Location"] + "download/").status_code == 404


def test_tab_counts_follow_an_action_at_once(console, paid_order, django_capture_on_commit_callbacks):
    assert "待发货<span class=\"count\">1</span>" in html(console.get("/orders/"))
    with django_capture_on_commit_callbacks(execute=True):
        console.post(f"/orders/{paid_order['order_no']}/ship/", {"carrier": "ZTO", "tracking_no": "73100000000078"})
    page = html(console.get("/orders/"))
    assert "待发货<span class=\"count\">0</span>" in page
    assert "已发货<span class=\"count\">1</span>" in page


def test_detail_draws_the_progress_with_the_current_step(console, paid_order):
    page = html(console.get(f"/orders/{paid_order['order_no']}/"))
    progress = page.split('<ol class="steps"')[1].split("</ol>")[0]
    assert 'class="step current" aria-current="step"' in progress
    current = progress.split('class="step current"')[1].split("</li>")[0]
    assert "买家付款" in current
    assert progress.count('class="step todo"') == 3


def test_a_cancelled_order_shows_where_it_left_the_path(console, sku, place_order, buyer_api):
    order = place_order((sku, 1))
    buyer_api.post(f"/orders/{order['order_no']}/cancel", {"reason": "拍错了"})
    progress = html(console.get(f"/orders/{order['order_no']}/")).split('<ol class="steps"')[1].split("</ol>")[0]
    assert 'class="step exit"' in progress and "已取消" in progress
    assert "step current" not in progress
