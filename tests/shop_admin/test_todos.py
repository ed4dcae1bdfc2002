"""The bell's live to-dos: what orders feed it, one shop only, read and unread per user, the fragment and its links."""
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from orders.models import Order
from shop_admin.kernel.todos import todo_feed, todo_mark_all_read, todo_mark_read
from tests.factories import make_member, make_shop, make_sku


def keys(feed) -> list[str]:
    return [entry.item.key for entry in feed.entries]


def unread_keys(feed) -> set[str]:
    return {entry.item.key for entry in feed.entries if entry.unread}


def signed_in(user, **headers) -> Client:
    client = Client(headers=headers)
    client.force_login(user)
    return client


def test_a_paid_order_is_an_unread_todo_linking_to_the_order(shop, sku, owner, place_order, pay):
    placed = place_order((sku, 1))
    assert todo_feed(user_id=owner.pk, shop_id=shop.pk, now=timezone.now()).unread_count == 0  # unpaid: nothing to do yet

    pay(placed["order_no"])
    order = Order.objects.get(order_no=placed["order_no"])
    feed = todo_feed(user_id=owner.pk, shop_id=shop.pk, now=timezone.now())

    assert feed.unread_count == 1
    [entry] = feed.entries
    assert entry.unread and entry.item.key == f"order_paid:{order.pk}"
    assert entry.item.url == f"/orders/{order.order_no}/"
    assert order.order_no in entry.item.detail


def test_another_shop_sees_none_of_my_todos(shop, sku, owner, place_order, pay, merchant_api):
    placed = place_order((sku, 1))
    pay(placed["order_no"])
    merchant_api.post(f"/merchant/orders/{placed['order_no']}/exceptions", {"kind": "merchant_reported", "description": "破损"})
    other_shop = make_shop("隔壁店")
    make_sku(other_shop)
    other_owner = make_member(other_shop, username="neighbour")

    mine = todo_feed(user_id=owner.pk, shop_id=shop.pk, now=timezone.now())
    theirs = todo_feed(user_id=other_owner.pk, shop_id=other_shop.pk, now=timezone.now())

    assert mine.unread_count == 2
    assert theirs.entries == [] and theirs.unread_count == 0
    fragment = signed_in(other_owner).get("/todos/bell/").content.decode()
    assert placed["order_no"] not in fragment


def test_an_exception_reported_is_a_todo_linking_to_the_exception(shop, sku, owner, place_order, pay, merchant_api):
    placed = place_order((sku, 1))
    pay(placed["order_no"])
    status, exception = merchant_api.post(
        f"/merchant/orders/{placed['order_no']}/exceptions", {"kind": "merchant_reported", "description": "外箱破损"}
    )
    assert status == 201, exception

    feed = todo_feed(user_id=owner.pk, shop_id=shop.pk, now=timezone.now())

    entry = next(e for e in feed.entries if e.item.key == f"exception:{exception['id']}")
    assert entry.unread and entry.item.url == f"/exceptions/{exception['id']}/"
    assert placed["order_no"] in entry.item.detail


def test_a_ship_deadline_within_two_hours_is_a_todo_until_shipped(shop, sku, owner, place_order, pay, merchant_api):
    placed = place_order((sku, 1))
    pay(placed["order_no"])
    order = Order.objects.get(order_no=placed["order_no"])
    due_key = f"ship_due:{order.pk}"

    three_hours_before = todo_feed(user_id=owner.pk, shop_id=shop.pk, now=order.ship_deadline - timedelta(hours=3))
    ninety_minutes_before = todo_feed(user_id=owner.pk, shop_id=shop.pk, now=order.ship_deadline - timedelta(minutes=90))

    assert due_key not in keys(three_hours_before)
    entry = next(e for e in ninety_minutes_before.entries if e.item.key == due_key)
    assert entry.unread and entry.item.deadline == order.ship_deadline and entry.item.url == f"/orders/{order.order_no}/"

    status, body = merchant_api.post(f"/merchant/orders/{order.order_no}/ship", {"carrier": "ZTO", "tracking_no": "73100001234567"})
    assert status == 200, body
    after = todo_feed(user_id=owner.pk, shop_id=shop.pk, now=order.ship_deadline - timedelta(minutes=90))
    assert due_key not in keys(after) and f"order_paid:{order.pk}" not in keys(after)


def test_read_and_unread_are_per_user(shop, sku, owner, place_order, pay):
    clerk = make_member(shop, role="customer_service", username="clerk")
    first, second = place_order((sku, 1)), place_order((sku, 1))
    pay(first["order_no"])
    pay(second["order_no"])
    first_key = f"order_paid:{Order.objects.get(order_no=first['order_no']).pk}"
    now = timezone.now()

    todo_mark_read(user_id=owner.pk, shop_id=shop.pk, key=first_key, now=now)
    todo_mark_read(user_id=owner.pk, shop_id=shop.pk, key=first_key, now=now)  # twice changes nothing

    owners = todo_feed(user_id=owner.pk, shop_id=shop.pk, now=now)
    clerks = todo_feed(user_id=clerk.pk, shop_id=shop.pk, now=now)
    assert owners.unread_count == 1 and first_key not in unread_keys(owners) and first_key in keys(owners)
    assert clerks.unread_count == 2 and first_key in unread_keys(clerks)


def test_mark_all_read_then_a_new_payment_is_unread_again(shop, sku, owner, place_order, pay):
    first = place_order((sku, 1))
    pay(first["order_no"])
    todo_mark_all_read(user_id=owner.pk, shop_id=shop.pk, now=timezone.now())
    assert todo_feed(user_id=owner.pk, shop_id=shop.pk, now=timezone.now()).unread_count == 0

    second = place_order((sku, 1))
    pay(second["order_no"])
    feed = todo_feed(user_id=owner.pk, shop_id=shop.pk, now=timezone.now())

    second_pk = Order.objects.get(order_no=second["order_no"]).pk
    assert feed.unread_count == 1 and unread_keys(feed) == {f"order_paid:{second_pk}"}


def test_the_bell_fragment_counts_and_lists_and_opening_an_item_marks_it_read(shop, sku, owner, place_order, pay, console):
    placed = place_order((sku, 1))
    pay(placed["order_no"])
    order = Order.objects.get(order_no=placed["order_no"])

    page = console.get("/orders/").content.decode()
    assert 'hx-get="/todos/bell/"' in page  # the header polls the bell
    fragment = console.get("/todos/bell/").content.decode()
    assert 'data-count="1"' in fragment and placed["order_no"] in fragment and "新的已支付订单" in fragment

    opened = console.post("/todos/read/", {"key": f"order_paid:{order.pk}", "next": f"/orders/{order.order_no}/"})

    assert opened.status_code == 302 and opened["Location"] == f"/orders/{order.order_no}/"
    assert 'data-count="0"' in console.get("/todos/bell/").content.decode()


def test_read_all_through_htmx_answers_the_fresh_fragment(shop, sku, owner, place_order, pay, console):
    pay(place_order((sku, 1))["order_no"])
    pay(place_order((sku, 1))["order_no"])

    response = console.post("/todos/read-all/", headers={"HX-Request": "true"})

    assert response.status_code == 200 and 'data-count="0"' in response.content.decode()


def test_bad_input_to_the_bell_is_refused_clearly(shop, owner, console):
    assert console.post("/todos/read/", {"key": "nonsense", "next": "/"}).status_code == 422
    assert console.post("/todos/read/", {"key": "order_paid:1", "next": "https://evil.example/"})["Location"] == "/"
    assert console.get("/todos/read/").status_code == 405
    assert Client().get("/todos/bell/").status_code == 204  # a signed-out tab's poll swaps nothing
    assert Client().post("/todos/read/", {"key": "order_paid:1"})["Location"].startswith("/login/")


def test_the_bell_speaks_english(shop, sku, owner, place_order, pay):
    pay(place_order((sku, 1))["order_no"])

    client = signed_in(owner)
    client.cookies["django_language"] = "en"
    fragment = client.get("/todos/bell/").content.decode()

    assert "New paid order" in fragment and "1 unread" in fragment and "Mark all read" in fragment


def test_the_bells_poll_costs_the_same_few_queries_however_many_todos(shop, sku, owner, place_order, pay, console, django_assert_max_num_queries):
    pay(place_order((sku, 1))["order_no"])
    console.get("/todos/bell/")
    for _ in range(5):
        pay(place_order((sku, 1))["order_no"])

    # session, user, membership; one query per source (8, escalated exceptions, failing deadlines and bad reviews
    # included); the marker; the read rows.
    with django_assert_max_num_queries(13):
        response = console.get("/todos/bell/")
    assert 'data-count="6"' in response.content.decode()


def test_see_all_lists_every_todo_of_the_shop_with_read_and_unread_as_the_bell(shop, sku, owner, place_order, pay, console):
    numbers = []
    for _ in range(12):  # more than the bell shows
        placed = place_order((sku, 1))
        pay(placed["order_no"])
        numbers.append(placed["order_no"])
    bell = console.get("/todos/bell/").content.decode()
    assert 'href="/todos/" class="todo-all">查看全部</a>' in bell
    assert sum(number in bell for number in numbers) == 10
    first = Order.objects.get(order_no=numbers[0])
    console.post("/todos/read/", {"key": f"order_paid:{first.pk}", "next": f"/orders/{first.order_no}/"})
    page = console.get("/todos/").content.decode()
    assert all(number in page for number in numbers) and "11 条未读" in page
    assert f'class="read" data-key="order_paid:{first.pk}"' in page
    # another shop's owner sees none of them
    stranger = signed_in(make_member(make_shop("隔壁店"), username="stranger"))
    assert not any(number in stranger.get("/todos/").content.decode() for number in numbers)
    # and mark all read from the page comes back to it
    response = console.post("/todos/read-all/", {"next": "/todos/"})
    assert response.url == "/todos/" and "0 条未读" in console.get("/todos/").content.decode()
    english = signed_in(owner)
    english.cookies["django_language"] = "en"
    assert ">See all</a>" in english.get("/todos/bell/").content.decode()
