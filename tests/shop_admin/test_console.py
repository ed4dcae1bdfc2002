"""The minimal console: sign in, pick a shop, see only that shop's orders."""
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client

from orders.models import Order
from tests.factories import make_member, make_shop


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_anonymous_user_is_sent_to_sign_in(db):
    response = Client().get("/orders/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_sign_in_page_speaks_chinese_by_default_and_english_on_request(db):
    assert "登录" in Client().get("/login/").content.decode()
    english = Client()
    english.cookies["django_language"] = "en"
    english = english.get("/login/")
    assert english.status_code == 200
    assert 'lang="en"' in english.content.decode()


def test_a_browser_asking_for_english_gets_chinese_until_the_menu_chooses_english(db):
    browser = Client(headers={"Accept-Language": "en-US,en;q=0.9"})
    page = browser.get("/login/").content.decode()
    assert 'lang="zh-hans"' in page and "登录" in page
    # the language menu posts to Django's set_language, which keeps the choice in the cookie
    browser.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert 'lang="en"' in browser.get("/login/").content.decode()


def test_sign_in_with_password_lands_on_the_dashboard(shop, owner):
    client = Client()
    response = client.post("/login/", {"username": "owner", "password": "pw-123456"})
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    assert "待支付" in page.content.decode()


def test_order_list_shows_only_my_shops_orders_with_masked_phones(shop, sku, owner, place_order):
    mine = place_order((sku, 1))
    page = signed_in(owner).get("/orders/").content.decode()
    assert mine["order_no"] in page
    assert "138****8000" in page
    assert "13800138000" not in page
    stranger = make_member(make_shop("隔壁店"))
    assert mine["order_no"] not in signed_in(stranger).get("/orders/").content.decode()


def test_another_shops_order_is_a_404(shop, sku, place_order):
    order = place_order((sku, 1))
    stranger = make_member(make_shop("隔壁店"))
    assert signed_in(stranger).get(f"/orders/{order['order_no']}/").status_code == 404
    assert Order.objects.filter(order_no=order["order_no"]).exists()


def test_order_detail_shows_lines_amounts_and_timeline(shop, sku, owner, place_order, pay):
    order = place_order((sku, 2))
    pay(order["order_no"])
    page = signed_in(owner).get(f"/orders/{order['order_no']}/").content.decode()
    assert "¥119.80" in page
    assert "提交订单" in page and "支付成功" in page


def test_user_of_two_shops_picks_one_and_sees_that_shop(shop, sku, owner, place_order):
    from shop_admin.kernel.models import Membership

    order = place_order((sku, 1))
    second = make_shop("第二家店")
    Membership.objects.create(user=owner, shop=second, role="owner")
    client = signed_in(owner)
    response = client.get("/orders/")
    assert response.status_code == 302 and response["Location"].startswith("/shop/select/")
    client.post("/shop/select/", {"shop_id": second.pk, "next": "/orders/"})
    assert order["order_no"] not in client.get("/orders/").content.decode()
    client.post("/shop/select/", {"shop_id": shop.pk, "next": "/orders/"})
    assert order["order_no"] in client.get("/orders/").content.decode()
    # A shop the user does not belong to cannot be picked.
    foreign = make_shop("别人的店")
    client.post("/shop/select/", {"shop_id": foreign.pk})
    assert order["order_no"] in client.get("/orders/").content.decode()


def test_dashboard_counts_link_to_lists_and_carry_chart_data(shop, sku, owner, place_order, pay):
    import json

    place_order((sku, 1))
    paid = place_order((sku, 1))
    pay(paid["order_no"])
    page = signed_in(owner).get("/").content.decode()
    assert 'href="/orders/?status=pending_payment"' in page
    assert 'href="/orders/?status=paid&amp;ship_due=soon"' in page or 'href="/orders/?status=paid&ship_due=soon"' in page
    assert paid["order_no"] in page  # its ship deadline is the nearest
    trend = json.loads(page.split('<script id="trend-data" type="application/json">')[1].split("</script>")[0])
    assert len(trend) == 30
    assert trend[-1]["orders"] == 2
    assert trend[-1]["gmv"] == "59.90"
    assert '<canvas id="chart-orders"' in page


def test_login_is_throttled_after_five_failures(shop, owner):
    client = Client()
    for _ in range(5):
        client.post("/login/", {"username": "owner", "password": "wrong"})
    locked = client.post("/login/", {"username": "owner", "password": "pw-123456"})
    assert locked.status_code == 429
    assert "锁定" in locked.content.decode()


def test_money_is_formatted_as_yuan():
    from shop_admin.kernel.templatetags.console import yuan

    assert yuan("1234.5") == "¥1,234.50"
    assert yuan(0) == "¥0.00"


def test_dashboard_order_tiles_count_only_this_shop_and_follow_a_payment(shop, sku, owner, place_order, pay, buyer_api):
    import re

    from tests.factories import make_sku, order_payload

    # given one unpaid and one paid order here, and an unpaid one in another shop
    unpaid = place_order((sku, 1))
    pay(place_order((sku, 1))["order_no"])
    other = make_shop("隔壁店")
    status, _body = buyer_api.post("/orders", order_payload(other, (make_sku(other, stock=5), 1)))
    assert status == 201
    client = signed_in(owner)

    def tiles() -> dict[str, int]:
        page = client.get("/").content.decode()
        return {href: int(n) for href, n in re.findall(r'<a class="tile[^"]*" href="([^"]+)"><span>[^<]*</span><strong>(\d+)', page)}

    # when the dashboard is loaded, then the four order tiles count this shop's orders only
    before = tiles()
    assert before["/orders/?status=pending_payment"] == 1
    assert before["/orders/?status=paid"] == 1
    assert before["/orders/?status=paid&amp;ship_due=soon"] <= 1
    assert before["/orders/?status=paid&amp;exception=risk_review"] == 0
    # and the next load counts again: the unpaid order paid moves from one tile to the other
    pay(unpaid["order_no"])
    after = tiles()
    assert after["/orders/?status=pending_payment"] == 0 and after["/orders/?status=paid"] == 2


def test_dashboard_tiles_statement_kept_compiled_follows_the_shop_the_time_and_the_settings(
    shop, sku, owner, place_order, pay, buyer_api, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from orders.models import Order
    from shop_admin.kernel import console
    from tests.factories import make_sku, order_payload

    def figures(shop_id, now):
        return {tile.url: count for tile, count, _nearest in console.dashboard_tile_figures(shop_id=shop_id, now=now)}

    # given a paid order due to ship in 30 hours here, and two unpaid orders in another shop
    paid = pay(place_order((sku, 1))["order_no"])
    order = Order.objects.get(shop=shop, status="paid")
    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(ship_deadline=now + timedelta(hours=30))
    other = make_shop("隔壁店")
    other_sku = make_sku(other, stock=5)
    for _ in range(2):
        assert buyer_api.post("/orders", order_payload(other, (other_sku, 1)))[0] == 201
    settings.DASHBOARD_SHIP_SOON = timedelta(hours=24)
    due = "/orders/?status=paid&ship_due=soon"

    # when the tiles are read for this shop now, then for the other shop, then a day later
    here = figures(shop.pk, now)
    there = figures(other.pk, now)
    later = figures(shop.pk, now + timedelta(days=1))

    # then each read has its own shop's and time's figures from the one statement kept
    assert any(statement is not None for statement in console._tile_statements.values())
    assert paid and here["/orders/?status=paid"] == 1 and here["/orders/?status=pending_payment"] == 0 and here[due] == 0
    assert there["/orders/?status=pending_payment"] == 2 and there["/orders/?status=paid"] == 0
    assert later[due] == 1
    # and a changed setting is read again: the ship-soon window widened to two days counts the order now
    settings.DASHBOARD_SHIP_SOON = timedelta(hours=48)
    assert figures(shop.pk, now)[due] == 1


def test_memberships_read_by_hand_are_the_users_shops_with_their_roles_by_shop_id(shop, owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from shop_admin.kernel.console import user_memberships
    from shop_admin.kernel.models import Membership

    # given a user of two shops, the second with another role, and a user of none
    second = make_shop("第二家店")
    Membership.objects.create(user=owner, shop=second, role="service")
    nobody = make_member(make_shop("无关的店"))
    Membership.objects.filter(user=nobody).delete()
    # when the hand-written read reads them
    mine = user_memberships(user_id=owner.pk)
    # then each membership, its role and its shop, by shop id
    expected = [(m.pk, owner.pk, m.shop_id, m.role) for m in Membership.objects.filter(user=owner).order_by("shop_id")]
    assert [(m.pk, m.user_id, m.shop_id, m.role) for m in mine] == expected
    assert [(m.shop_id, m.role) for m in mine] == [(shop.pk, "owner"), (second.pk, "service")]
    # and the shops were read along: no query on access
    with CaptureQueriesContext(connection) as ctx:
        assert [(m.shop.pk, m.shop.name) for m in mine] == [(shop.pk, shop.name), (second.pk, "第二家店")]
    assert not ctx.captured_queries
    assert user_memberships(user_id=nobody.pk) == []


def test_a_session_expired_or_gone_signs_out(shop, owner):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    # given a signed-in console (sessions read by the kernel's session store)
    client = signed_in(owner)
    assert client.get("/orders/").status_code == 200
    key = client.session.session_key
    # when the session row expires, then the next request is anonymous
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/orders/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    # and a session row that is gone signs out too; signing in again works
    client = signed_in(owner)
    Session.objects.filter(session_key=client.session.session_key).delete()
    assert client.get("/orders/").status_code == 302
    assert signed_in(owner).get("/orders/").status_code == 200


class CountingHasher(MD5PasswordHasher):
    """Django's MD5 hasher (the suite's), counting how often a password is checked."""

    checks = 0

    def verify(self, password, encoded):
        type(self).checks += 1
        return super().verify(password, encoded)


def test_sign_in_checks_a_password_once_and_keeps_sessions_of_djangos_backend(shop, owner, settings):
    from django.contrib.auth import BACKEND_SESSION_KEY, user_login_failed

    settings.PASSWORD_HASHERS = ["tests.shop_admin.test_console.CountingHasher"]
    owner.set_password("pw-123456")  # hashed by the counting hasher
    owner.save(update_fields=["password"])
    failures = []
    user_login_failed.connect(lambda **kw: failures.append(kw), dispatch_uid="count-failures", weak=False)
    try:
        # when a wrong password is given, then it is checked once, refused once, and nobody is signed in
        client = Client()
        CountingHasher.checks = 0
        response = client.post("/login/", {"username": "owner", "password": "wrong"})
        assert response.status_code == 200 and CountingHasher.checks == 1 and len(failures) == 1
        assert client.get("/orders/").status_code == 302
        # when the right one is given, then the session names the console's backend and the pages open
        CountingHasher.checks = 0
        assert client.post("/login/", {"username": "owner", "password": "pw-123456"}).status_code == 302
        assert CountingHasher.checks == 1 and len(failures) == 1
        assert client.session[BACKEND_SESSION_KEY] == "shop_admin.kernel.auth.ConsoleModelBackend"
        assert client.get("/orders/").status_code == 200
    finally:
        user_login_failed.disconnect(dispatch_uid="count-failures")
    # and a session signed in through Django's own backend before stays signed in
    old = Client()
    owner.refresh_from_db()
    old.force_login(owner, backend="django.contrib.auth.backends.ModelBackend")
    assert old.get("/orders/").status_code == 200


def test_a_user_made_inactive_is_signed_out_at_the_next_request(shop, owner):
    client = signed_in(owner)
    assert client.get("/orders/").status_code == 200
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    assert client.get("/orders/").status_code == 302
