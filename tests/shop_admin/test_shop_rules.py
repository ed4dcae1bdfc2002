"""Each shop's own rule numbers within the platform's bounds: the console refuses out-of-bounds values naming the field,
every change is audited, and the rules read the shop's number (ship deadline, reply window, recovery, auto-confirm,
low stock) without touching another shop's."""
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from orders.constants import OrderStatus
from orders.models import Order
from orders.selectors import stock_status
from orders.services.recovery import recovery_refusal
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.constants import ActorKind, Role, ShopEventKind
from shop_admin.kernel.models import ShopEvent
from shop_admin.kernel.shoprules import shop_rule, shop_rules_of, shop_rules_update
from tests import factories


def test_a_shop_that_set_nothing_follows_the_platform_defaults(shop, settings):
    assert shop_rule(shop.pk, "ship_promise") == settings.SHIP_DEADLINE
    assert shop_rule(shop.pk, "low_stock_threshold") == settings.LOW_STOCK_THRESHOLD
    settings.AUTO_CONFIRM_AFTER = timedelta(days=8)
    assert shop_rule(shop.pk, "auto_confirm") == timedelta(days=8)


def test_out_of_bounds_settings_are_refused_naming_each_field_and_nothing_is_saved(shop, owner, console):
    response = console.post(
        "/settings/shop/",
        {"ship_promise_hours": "36", "aftersale_reply_hours": "30", "aftersale_reply_hours_fragile": "13",
         "recovery_window_hours": "96", "auto_confirm_days": "3", "low_stock_threshold": "-1"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {
        "ship_promise_hours", "aftersale_reply_hours", "aftersale_reply_hours_fragile", "recovery_window_hours",
        "auto_confirm_days", "low_stock_threshold",
    }
    assert "24 / 48 / 72" in errors["ship_promise_hours"][0]
    assert "1 至 24" in errors["aftersale_reply_hours"][0]
    assert shop_rule(shop.pk, "ship_promise") == timedelta(hours=48)
    assert not ShopEvent.objects.filter(shop=shop).exists()
    # the input stays in the form
    assert 'value="36"' in response.content.decode()


def test_a_setting_saved_in_the_console_is_audited_with_before_and_after(shop, owner, console):
    response = console.post("/settings/shop/", {"ship_promise_hours": "24", "recovery_window_hours": "72"})
    assert response.status_code == 302
    event = ShopEvent.objects.get(shop=shop, kind=ShopEventKind.RULES_CHANGED)
    assert event.actor_user == owner
    assert event.data == {"changes": {"ship_promise_hours": [None, 24], "recovery_window_hours": [None, 72]}}
    assert shop_rule(shop.pk, "recovery_window") == timedelta(hours=72)


def test_the_settings_page_speaks_english(shop, owner, console):
    console.post("/i18n/setlang/", {"language": "en"})
    page = console.get("/settings/shop/").content.decode()
    assert "Ship promise (hours)" in page
    assert "Team" in console.get("/settings/").content.decode()


def test_a_48_to_24_hour_ship_promise_moves_the_next_paid_orders_deadline_and_not_another_shops(
    shop, owner, sku, buyer_api, place_order, pay
):
    other = factories.make_shop()
    other_sku = factories.make_sku(other)
    # given: both shops on the platform's 48 h; this one moves to 24 h
    shop_rules_update(shop=shop, actor=Actor.for_user(owner), numbers={"ship_promise_hours": 24})
    # when: an order of each shop is paid
    mine = place_order((sku, 1))
    status, theirs = buyer_api.post("/orders", factories.order_payload(other, (other_sku, 1)))
    assert status == 201
    before = timezone.now()
    pay(mine["order_no"])
    pay(theirs["order_no"])
    after = timezone.now()
    # then
    mine_paid, theirs_paid = Order.objects.get(order_no=mine["order_no"]), Order.objects.get(order_no=theirs["order_no"])
    assert mine_paid.status == theirs_paid.status == OrderStatus.PAID
    assert before + timedelta(hours=24) <= mine_paid.ship_deadline <= after + timedelta(hours=24)
    assert before + timedelta(hours=48) <= theirs_paid.ship_deadline <= after + timedelta(hours=48)


def test_the_after_sale_reply_deadline_follows_the_shops_window(shop, owner):
    from aftersale.services.open import reply_window

    order = Order(shop_id=shop.pk, kind="normal")
    shop_rules_update(shop=shop, actor=Actor.for_user(owner), numbers={"aftersale_reply_hours": 12, "aftersale_reply_hours_fragile": 6})
    assert reply_window(order, fragile=False) == timedelta(hours=12)
    assert reply_window(order, fragile=True) == timedelta(hours=6)


def test_the_recovery_window_is_the_shops(shop, owner):
    cancelled = Order(shop_id=shop.pk, status=OrderStatus.CANCELLED, paid_amount=0, cancelled_by=ActorKind.SYSTEM)
    cancelled.cancelled_at = timezone.now() - timedelta(hours=30)
    assert recovery_refusal(cancelled, now=timezone.now()).code == "recovery_window_passed"  # platform default 24 h
    shop_rules_update(shop=shop, actor=Actor.for_user(owner), numbers={"recovery_window_hours": 48})
    assert recovery_refusal(cancelled, now=timezone.now()) is None


def test_the_low_stock_threshold_is_the_shops_on_the_stock_page(shop, owner, console):
    factories.make_sku(shop, stock=15, name="毛巾")
    assert "库存紧张" not in console.get("/products/").content.decode()
    shop_rules_update(shop=shop, actor=Actor.for_user(owner), numbers={"low_stock_threshold": 20})
    assert "库存紧张" in console.get("/products/").content.decode()
    assert stock_status(is_presale=False, available=15, low_stock_threshold=20) == "low_stock"


def test_batches_read_every_shops_rules_in_one_statement(shop, owner, django_assert_num_queries):
    other = factories.make_shop()
    shop_rules_update(shop=shop, actor=Actor.for_user(owner), numbers={"auto_confirm_days": 10})
    with django_assert_num_queries(1):
        rules = shop_rules_of([shop.pk, other.pk])
    assert rules[shop.pk].auto_confirm == timedelta(days=10)
    assert rules[other.pk].auto_confirm == timedelta(days=7)


def test_another_shops_owner_changes_only_their_own_settings(shop, owner):
    other = factories.make_shop()
    client = Client()
    client.force_login(factories.make_member(other, role=Role.OWNER))
    assert client.post("/settings/shop/", {"ship_promise_hours": "72"}).status_code == 302
    assert shop_rule(other.pk, "ship_promise") == timedelta(hours=72)
    assert shop_rule(shop.pk, "ship_promise") == timedelta(hours=48)
