"""The deadline queue: every app's deadlines of a shop in one list nearest first, filtered, paged, per role and per shop."""
from datetime import timedelta

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import Order, OrderException
from shop_admin.kernel import deadline_queue as deadline_queue_module
from shop_admin.kernel.constants import Role
from shop_admin.kernel.deadline_queue import QueueKind, QueueRow, deadline_queue, deadline_queue_kinds
from shop_admin.kernel.deadlines import deadlines_sweep
from tests.conftest import ApiClient
from tests.factories import make_member, make_shop


def paid_order(place_order, pay, sku, *, ship_in: timedelta) -> Order:
    placed = place_order((sku, 1))
    pay(placed["order_no"])
    Order.objects.filter(order_no=placed["order_no"]).update(ship_deadline=timezone.now() + ship_in)
    return Order.objects.get(order_no=placed["order_no"])


def kinds_and_orders(body) -> list[tuple[str, str]]:
    return [(row["kind"], row["order_no"]) for row in body["deadlines"]]


def test_ship_exception_and_aftersale_deadlines_come_in_one_list_nearest_first(sku, place_order, pay, merchant_api, buyer_api):
    late = paid_order(place_order, pay, sku, ship_in=timedelta(hours=20))
    soon = paid_order(place_order, pay, sku, ship_in=timedelta(hours=1))
    claimed = paid_order(place_order, pay, sku, ship_in=timedelta(days=3))  # beyond 24 h: only its case shows
    status, case = buyer_api.post(f"/orders/{claimed.order_no}/aftersales", {"type": "refund_only", "reason": "不想要了"})
    assert status == 201, case
    reported = paid_order(place_order, pay, sku, ship_in=timedelta(days=3))
    status, _ = merchant_api.post(f"/merchant/orders/{reported.order_no}/exceptions", {"kind": "merchant_reported", "description": "破损"})
    assert status == 201
    exception = OrderException.objects.get(order=reported)
    OrderException.objects.filter(pk=exception.pk).update(deadline=timezone.now() + timedelta(hours=10))

    status, body = merchant_api.get("/merchant/deadlines")

    assert status == 200, body
    assert kinds_and_orders(body) == [
        ("ship", soon.order_no),
        ("exception", reported.order_no),
        ("ship", late.order_no),
        ("aftersale_reply", claimed.order_no),  # 24 h to answer, opened last
    ]
    reply = body["deadlines"][3]
    assert reply["aftersale_id"] == case["aftersale_id"] and reply["action"] == "reply" and reply["overdue"] is False
    assert body["deadlines"][1]["exception_id"] == exception.pk and body["deadlines"][1]["action"] == "resolve"
    assert body["next_cursor"] is None


def test_within_and_kind_narrow_the_list(sku, place_order, pay, merchant_api, buyer_api):
    soon = paid_order(place_order, pay, sku, ship_in=timedelta(minutes=90))
    paid_order(place_order, pay, sku, ship_in=timedelta(hours=5))
    claimed = paid_order(place_order, pay, sku, ship_in=timedelta(days=3))
    buyer_api.post(f"/orders/{claimed.order_no}/aftersales", {"type": "refund_only", "reason": "不想要了"})

    _, within_2h = merchant_api.get("/merchant/deadlines?within=2h")
    _, replies = merchant_api.get("/merchant/deadlines?kind=aftersale_reply")

    assert kinds_and_orders(within_2h) == [("ship", soon.order_no)]
    assert kinds_and_orders(replies) == [("aftersale_reply", claimed.order_no)]


def test_an_overdue_deadline_stays_listed_as_overdue(sku, place_order, pay, merchant_api):
    order = paid_order(place_order, pay, sku, ship_in=-timedelta(hours=3))

    _, body = merchant_api.get("/merchant/deadlines?within=1h")

    [row] = body["deadlines"]
    assert row["order_no"] == order.order_no and row["overdue"] is True


def test_pages_follow_the_cursor_without_repeating_or_skipping_rows_due_at_the_same_moment(sku, place_order, pay, merchant_api):
    moment = timezone.now() + timedelta(hours=2)
    orders = [paid_order(place_order, pay, sku, ship_in=timedelta(hours=2)) for _ in range(5)]
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(ship_deadline=moment)

    seen, cursor = [], None
    for _ in range(4):
        status, body = merchant_api.get("/merchant/deadlines?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200, body
        seen += [row["order_no"] for row in body["deadlines"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert seen == sorted((o.order_no for o in orders), key=lambda no: Order.objects.get(order_no=no).pk)


def test_bad_inputs_are_422_naming_the_field(merchant_api):
    for query, field in (("within=soon", "within"), ("within=400d", "within"), ("kind=teleport", "kind"), ("cursor=abc", "cursor")):
        status, body = merchant_api.get(f"/merchant/deadlines?{query}")
        assert status == 422, (query, body)
        assert field in body["error"]["details"]["fields"], (query, body)


def test_a_recovery_window_is_listed_until_it_closes_but_not_for_an_order_the_buyer_cancelled(
    sku, place_order, buyer_api, merchant_api, settings
):
    expired = place_order((sku, 1))
    changed_mind = place_order((sku, 1))
    buyer_api.post(f"/orders/{changed_mind['order_no']}/cancel", {"reason": "不想要了"})
    later = timezone.now() + settings.ORDER_PAY_WINDOW + timedelta(minutes=1)
    deadlines_sweep(now=later)
    cancelled = Order.objects.get(order_no=expired["order_no"])
    assert cancelled.status == "cancelled"

    _, body = merchant_api.get("/merchant/deadlines?within=2d")

    [row] = [r for r in body["deadlines"] if r["kind"] == "recovery"]
    assert row["order_no"] == cancelled.order_no and row["action"] == "recover"
    assert row["due_at"] == timezone.localtime(cancelled.cancelled_at + settings.ORDER_RECOVERY_WINDOW).isoformat()


def test_another_shop_sees_none_of_my_deadlines(sku, place_order, pay, merchant_api):
    order = paid_order(place_order, pay, sku, ship_in=timedelta(hours=1))
    other = make_shop("隔壁店")
    stranger = make_member(other, username="neighbour")

    _, mine = merchant_api.get("/merchant/deadlines")
    _, theirs = ApiClient(stranger.api_token.key).get("/merchant/deadlines")
    client = Client()
    client.force_login(stranger)
    page = client.get("/deadlines/").content.decode()

    assert kinds_and_orders(mine) == [("ship", order.order_no)]
    assert theirs["deadlines"] == []
    assert order.order_no not in page


def test_each_role_gets_the_action_button_it_may_use(shop, sku, place_order, pay, buyer_api):
    shipping = paid_order(place_order, pay, sku, ship_in=timedelta(hours=1))
    claimed = paid_order(place_order, pay, sku, ship_in=timedelta(days=3))
    buyer_api.post(f"/orders/{claimed.order_no}/aftersales", {"type": "refund_only", "reason": "不想要了"})
    pages = {}
    for role in (Role.WAREHOUSE, Role.SERVICE):
        client = Client()
        client.force_login(make_member(shop, role=role, username=role))
        pages[role] = client.get("/deadlines/").content.decode()

    assert f'data-action="ship" href="/orders/{shipping.order_no}/"' in pages[Role.WAREHOUSE]
    assert 'data-action="reply"' not in pages[Role.WAREHOUSE]
    assert 'data-action="reply"' in pages[Role.SERVICE]
    assert 'data-action="ship"' not in pages[Role.SERVICE]
    assert claimed.order_no in pages[Role.WAREHOUSE]  # listed for everyone, acted on by whoever may


def test_the_page_shows_overdue_in_red_in_both_languages_and_is_in_the_navigation(sku, place_order, pay, console):
    order = paid_order(place_order, pay, sku, ship_in=-timedelta(minutes=5))

    chinese = console.get("/deadlines/").content.decode()
    console.cookies["django_language"] = "en"
    english = console.get("/deadlines/").content.decode()

    assert order.order_no in chinese and "到期待办" in chinese and "已超时" in chinese
    assert 'href="/deadlines/"' in chinese
    assert "Deadlines" in english and "Overdue" in english and "发货截止" not in english


def test_a_bad_filter_on_the_page_says_so_and_shows_the_default_queue(console):
    response = console.get("/deadlines/?within=forever")

    assert response.status_code == 200
    assert "within 无效" in response.content.decode()


def test_a_page_reads_every_kind_in_one_statement(sku, place_order, pay, merchant_api, buyer_api):
    paid_order(place_order, pay, sku, ship_in=timedelta(hours=2))
    claimed = paid_order(place_order, pay, sku, ship_in=timedelta(days=3))
    buyer_api.post(f"/orders/{claimed.order_no}/aftersales", {"type": "refund_only", "reason": "不想要了"})

    with CaptureQueriesContext(connection) as ctx:
        status, body = merchant_api.get("/merchant/deadlines")

    assert status == 200 and [row["kind"] for row in body["deadlines"]] == ["ship", "aftersale_reply"]
    tables = ("orders_order", "orders_orderexception", "aftersale_aftersalecase")
    reads = [q["sql"] for q in ctx.captured_queries if any(f'"{t}"' in q["sql"] for t in tables)]
    assert len(reads) == 1 and reads[0].count("UNION ALL") == len(deadline_queue_kinds()) - 1


def test_a_kind_that_gives_its_own_rows_is_merged_nearest_first(shop, sku, place_order, pay, monkeypatch):
    first = paid_order(place_order, pay, sku, ship_in=timedelta(hours=1))
    last = paid_order(place_order, pay, sku, ship_in=timedelta(hours=3))
    now = timezone.now()

    def rows(*, shop_ids, now, until, after, limit):
        return [QueueRow(kind="zz_own", shop_id=shop.pk, pk=1, due_at=now + timedelta(hours=2), order_no="X1", detail="", url="")]

    own = QueueKind(name="zz_own", label="own", action="look", action_label="look", perm="order.view", rows=rows)
    monkeypatch.setitem(deadline_queue_module._kinds, "zz_own", own)

    page, more = deadline_queue(shop_ids={shop.pk}, now=now)

    assert [(row.kind, row.order_no) for row in page] == [("ship", first.order_no), ("zz_own", "X1"), ("ship", last.order_no)]
    assert more is None
