"""The platform's admin changelists: search and filters find the right records, in a bounded number of queries."""
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.conftest import ApiClient
from tests.factories import ADDRESS, make_buyer, make_shop, make_sku, order_payload


@pytest.fixture
def staff(db):
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("platform-staff", "", "pw-123456"))
    return client


def _order(shop, sku, *, phone: str = ADDRESS["phone"]) -> dict:
    status, body = ApiClient(make_buyer().api_token).post(
        "/orders", order_payload(shop, (sku, 1), address={**ADDRESS, "phone": phone})
    )
    assert status == 201, body
    return body


@pytest.fixture
def two_shops(db):
    shops = [make_shop("甲店"), make_shop("乙店")]
    skus = [make_sku(shop, stock=50, name="蓝牙耳机") for shop in shops]
    return shops, skus


def test_phone_search_finds_that_phone_in_every_shop_and_nothing_else(staff, two_shops, pay):
    (a, b), (sku_a, sku_b) = two_shops
    wanted = [_order(a, sku_a, phone="13911112222"), _order(b, sku_b, phone="13911112222")]
    other = _order(a, sku_a, phone="13933334444")
    page = staff.get("/admin/orders/order/", {"q": "13911112222"}).content.decode()
    assert all(o["order_no"] in page for o in wanted)
    assert other["order_no"] not in page


def test_phone_search_within_the_chosen_shop(staff, two_shops):
    (a, b), (sku_a, sku_b) = two_shops
    in_a, in_b = _order(a, sku_a, phone="13911112222"), _order(b, sku_b, phone="13911112222")
    page = staff.get("/admin/orders/order/", {"q": "13911112222", "shop__id__exact": a.pk}).content.decode()
    assert in_a["order_no"] in page and in_b["order_no"] not in page


def test_order_number_and_product_search(staff, two_shops):
    (a, _b), (sku_a, _sku_b) = two_shops
    wanted, other = _order(a, sku_a), _order(a, sku_a)
    page = staff.get("/admin/orders/order/", {"q": wanted["order_no"]}).content.decode()
    assert wanted["order_no"] in page and other["order_no"] not in page
    page = staff.get("/admin/orders/order/", {"q": "耳机"}).content.decode()
    assert wanted["order_no"] in page and other["order_no"] in page


def test_status_filter_lists_only_that_status(staff, two_shops, api):
    (a, _b), (sku_a, _sku_b) = two_shops
    unpaid, to_cancel = _order(a, sku_a), _order(a, sku_a)
    from orders.models import Order
    from orders.services.lifecycle import order_cancel
    from shop_admin.kernel.actors import Actor

    order = Order.objects.get(order_no=to_cancel["order_no"])
    order_cancel(order=order, actor=Actor.for_buyer(order.buyer), reason="不要了")
    page = staff.get("/admin/orders/order/", {"status__exact": "cancelled"}).content.decode()
    assert to_cancel["order_no"] in page and unpaid["order_no"] not in page


@pytest.mark.parametrize(
    "path",
    [
        "/admin/orders/order/",
        "/admin/orders/order/?status__exact=pending_payment",
        "/admin/orders/order/?q=13800138000",
        "/admin/orders/orderevent/",
        "/admin/orders/payment/",
        "/admin/orders/orderexception/",
        "/admin/aftersale/aftersalecase/",
        "/admin/logistics/shipment/",
    ],
)
def test_changelist_queries_do_not_grow_with_the_rows(staff, two_shops, path, django_assert_max_num_queries):
    (a, _b), (sku_a, _sku_b) = two_shops
    for _ in range(12):
        _order(a, sku_a)
    with django_assert_max_num_queries(12):
        response = staff.get(path)
    assert response.status_code == 200


def test_exact_search_ignores_text_a_field_cannot_hold(staff, two_shops):
    (a, _b), (sku_a, _sku_b) = two_shops
    order = _order(a, sku_a)
    response = staff.get("/admin/orders/orderevent/", {"q": order["order_no"]})
    assert response.status_code == 200
    assert order["order_no"] in response.content.decode()
    assert staff.get("/admin/orders/payment/", {"q": "不是流水号"}).status_code == 200


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
@pytest.mark.parametrize(
    "path",
    [
        "/admin/orders/order/",
        "/admin/orders/order/?status__exact=paid",
        "/admin/orders/orderevent/",
        "/admin/orders/payment/",
        "/admin/orders/orderexception/",
        "/admin/orders/ledgerentry/",
        "/admin/aftersale/aftersalecase/?queue=all",
    ],
)
def test_large_changelist_rows_are_the_markup_django_writes(staff, two_shops, buyer_api, pay, lang, path):
    # given orders of every kind of cell: links, labels of choices, money, local times, a related order, a remark
    from django.contrib.admin.templatetags.admin_list import results

    from aftersale.services import aftersale_open
    from orders.models import Order, OrderException
    from shop_admin.kernel.actors import Actor

    (a, b), (sku_a, sku_b) = two_shops
    paid = []
    for shop, sku in ((a, sku_a), (b, sku_b), (a, sku_a)):
        status, body = buyer_api.post("/orders", order_payload(shop, (sku, 1)))
        assert status == 201, body
        paid.append(body)
    for order in paid[:2]:
        pay(order["order_no"])
    OrderException.objects.create(
        order=Order.objects.get(order_no=paid[0]["order_no"]), shop=a, kind="oversell", status="open", detail="<b>超卖</b>"
    )
    # and an after-sale case on the paid orders, <b> in its reason
    for order_no in (paid[0]["order_no"], paid[1]["order_no"]):
        order = Order.objects.get(order_no=order_no)
        aftersale_open(order=order, actor=Actor.for_buyer(order.buyer), case_type="refund_only", reason="<b>不想要</b>")
    staff.cookies["django_language"] = lang
    # when the changelist is drawn
    response = staff.get(path)
    # then each row is what django.contrib.admin's own items_for_result writes for it, byte for byte
    assert response.status_code == 200
    cl = response.context["cl"]
    assert cl.result_list, path
    page = response.content.decode()
    rows = ["".join(items) for items in results(cl)]
    assert len(rows) == len(cl.result_list)
    for row in rows:
        assert f"<tr>{row}</tr>" in page
