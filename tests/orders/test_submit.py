"""Submitting an order: all or nothing, stock locked without overselling, refusals that name the line or field."""
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from orders.models import CouponRedemption, FullReduction, IdempotencyRecord, Order, StockLevel
from tests.concurrency import run_concurrently
from tests.conftest import ApiClient
from tests.factories import (
    ADDRESS,
    make_buyer,
    make_coupon,
    make_sku,
    order_payload,
    stock_of,
)


def test_amounts_are_items_minus_discounts_plus_freight(shop, buyer_api):
    tea = make_sku(shop, price="59.90", freight="8.00")
    cup = make_sku(shop, price="120.00", freight="10.00")
    coupon = make_coupon(shop, discount="20.00", threshold="199.00")
    now = timezone.now()
    FullReduction.objects.create(shop=shop, threshold=Decimal("200"), discount=Decimal("15"), valid_from=now - timedelta(days=1), valid_to=now + timedelta(days=1))
    status, order = buyer_api.post("/orders", order_payload(shop, (tea, 2), (cup, 1), coupon_codes=[coupon.code]))
    assert status == 201, order
    assert order["amounts"] == {
        "items_total": "239.80",
        "coupon_discount": "20.00",
        "full_reduction": "15.00",
        "freight": "10.00",
        "subsidy": "0.00",
        "payable": "214.80",
        "deposit": None,
        "paid": "0.00",
    }
    assert order["items"][0]["snapshot"]["name"] == tea.product.name
    assert order["pay_deadline"] is not None


def test_payable_never_drops_below_one_fen(shop, buyer_api):
    cheap = make_sku(shop, price="5.00")
    coupon = make_coupon(shop, discount="50.00")
    status, order = buyer_api.post("/orders", order_payload(shop, (cheap, 1), coupon_codes=[coupon.code]))
    assert status == 201, order
    assert order["payable"] == "0.01"


def test_one_line_short_rejects_the_whole_order_naming_it(shop, buyer_api):
    plenty = make_sku(shop, stock=50, code="PLENTY")
    scarce = make_sku(shop, stock=1, code="SCARCE")
    status, body = buyer_api.post("/orders", order_payload(shop, (plenty, 2), (scarce, 2)))
    assert status == 409
    assert body["error"]["code"] == "out_of_stock"
    assert [line["sku_code"] for line in body["error"]["details"]["lines"]] == ["SCARCE"]
    assert stock_of(plenty) == {"available": 50, "locked": 0, "occupied": 0}
    assert Order.objects.count() == 0


def test_unknown_or_foreign_sku_is_named(shop, buyer_api, sku):
    other_shop_sku = make_sku(make_shop_other())
    status, body = buyer_api.post("/orders", order_payload(shop, (sku, 1), (other_shop_sku, 1)))
    assert status == 422
    assert body["error"]["code"] == "invalid_items"
    assert body["error"]["details"]["lines"][0]["sku_id"] == other_shop_sku.pk


def make_shop_other():
    from tests.factories import make_shop

    return make_shop("别人的店")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"phone": "12345678901"}, "phone"),
        ({"phone": "1380013800"}, "phone"),
        ({"name": ""}, "name"),
        ({"city": "广州市"}, "city"),
        ({"district": "朝阳区"}, "district"),
        ({"province": "火星"}, "province"),
        ({"detail": "文三路\x07478号"}, "detail"),
        ({"detail": "路"}, "detail"),
    ],
)
def test_bad_address_names_the_field(shop, sku, buyer_api, change, field):
    payload = order_payload(shop, (sku, 1))
    payload["address"].update(change)
    status, body = buyer_api.post("/orders", payload)
    assert status == 422
    assert body["error"]["code"] == "invalid_address"
    assert field in body["error"]["details"]["fields"]
    assert stock_of(sku)["locked"] == 0


def test_municipality_and_province_governed_cities_are_accepted(shop, sku, buyer_api):
    for address in (
        {"province": "北京市", "city": "北京市", "district": "朝阳区"},
        {"province": "湖北省", "city": "仙桃市", "district": "仙桃市"},
        {"province": "广东省", "city": "东莞市", "district": "南城街道"},
    ):
        payload = order_payload(shop, (sku, 1))
        payload["address"].update(address)
        status, body = buyer_api.post("/orders", payload)
        assert status == 201, (address, body)


def test_excluded_region_is_refused_for_that_line(shop, buyer_api):
    cherry = make_sku(shop, name="车厘子", excluded_regions=["新疆维吾尔自治区"])
    payload = order_payload(shop, (cherry, 1))
    payload["address"].update({"province": "新疆维吾尔自治区", "city": "乌鲁木齐市", "district": "天山区"})
    status, body = buyer_api.post("/orders", payload)
    assert status == 422
    assert body["error"]["code"] == "undeliverable_area"
    assert body["error"]["details"]["lines"][0]["product"] == "车厘子"


@pytest.mark.parametrize(
    "coupon_fields, reason",
    [
        ({"valid_to": timezone.now() - timedelta(hours=1)}, "已过期"),
        ({"valid_from": timezone.now() + timedelta(days=1), "valid_to": timezone.now() + timedelta(days=2)}, "尚未生效"),
        ({"threshold": "500.00"}, "未满"),
    ],
)
def test_unusable_coupon_is_refused_with_its_reason(shop, sku, buyer_api, coupon_fields, reason):
    coupon = make_coupon(shop, **coupon_fields)
    status, body = buyer_api.post("/orders", order_payload(shop, (sku, 1), coupon_codes=[coupon.code]))
    assert status == 422
    assert body["error"]["code"] == "invalid_coupon"
    assert reason in body["error"]["details"]["coupons"][coupon.code]


def test_coupon_per_buyer_limit_and_release_on_cancel(shop, sku, buyer_api):
    coupon = make_coupon(shop, per_buyer_limit=1)
    status, first = buyer_api.post("/orders", order_payload(shop, (sku, 1), coupon_codes=[coupon.code]))
    assert status == 201
    status, body = buyer_api.post("/orders", order_payload(shop, (sku, 1), coupon_codes=[coupon.code]))
    assert status == 422
    assert "限用" in body["error"]["details"]["coupons"][coupon.code]
    buyer_api.post(f"/orders/{first['order_no']}/cancel", {"reason": "换个券"})
    assert CouponRedemption.objects.get(order__order_no=first["order_no"]).released_at is not None
    status, body = buyer_api.post("/orders", order_payload(shop, (sku, 1), coupon_codes=[coupon.code]))
    assert status == 201, body


def test_same_idempotency_key_gives_the_same_order_once(shop, sku, buyer_api):
    payload = order_payload(shop, (sku, 2))
    first = buyer_api.post("/orders", payload, headers={"Idempotency-Key": "k-1"})
    second = buyer_api.post("/orders", payload, headers={"Idempotency-Key": "k-1"})
    assert first[0] == second[0] == 201
    assert first[1]["order_no"] == second[1]["order_no"]
    assert Order.objects.count() == 1
    assert stock_of(sku)["locked"] == 2
    status, body = buyer_api.post("/orders", order_payload(shop, (sku, 5)), headers={"Idempotency-Key": "k-1"})
    assert status == 422
    assert body["error"]["code"] == "idempotency_key_reused"


def _age_keys(by: timedelta) -> None:
    IdempotencyRecord.objects.update(created_at=timezone.now() - by)


def test_an_expired_idempotency_key_is_a_new_order_even_before_the_sweep(shop, sku, buyer_api):
    payload = order_payload(shop, (sku, 1))
    _status, first = buyer_api.post("/orders", payload, headers={"Idempotency-Key": "k-old"})
    _age_keys(settings.IDEMPOTENCY_KEY_TTL + timedelta(minutes=1))

    status, second = buyer_api.post("/orders", payload, headers={"Idempotency-Key": "k-old"})
    assert status == 201, second
    assert second["order_no"] != first["order_no"]
    assert Order.objects.count() == 2
    # the key now answers for the new order
    assert buyer_api.post("/orders", payload, headers={"Idempotency-Key": "k-old"})[1]["order_no"] == second["order_no"]
    assert Order.objects.count() == 2


def test_a_key_within_its_ttl_still_replays(shop, sku, buyer_api):
    payload = order_payload(shop, (sku, 1))
    _status, first = buyer_api.post("/orders", payload, headers={"Idempotency-Key": "k-young"})
    _age_keys(settings.IDEMPOTENCY_KEY_TTL - timedelta(minutes=1))
    assert buyer_api.post("/orders", payload, headers={"Idempotency-Key": "k-young"})[1]["order_no"] == first["order_no"]
    assert Order.objects.count() == 1


def test_the_sweep_deletes_expired_idempotency_keys_only(shop, sku, buyer_api):
    payload = order_payload(shop, (sku, 1))
    buyer_api.post("/orders", payload, headers={"Idempotency-Key": "k-old"})
    _age_keys(settings.IDEMPOTENCY_KEY_TTL + timedelta(minutes=1))
    buyer_api.post("/orders", payload, headers={"Idempotency-Key": "k-new"})

    out = StringIO()
    call_command("sweep_deadlines", stdout=out)
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["k-new"]
    call_command("sweep_deadlines", "--at", (timezone.now() + settings.IDEMPOTENCY_KEY_TTL).isoformat(), stdout=out)
    assert not IdempotencyRecord.objects.exists()
    assert Order.objects.count() == 2  # the orders themselves stay


@pytest.mark.django_db(transaction=True)
def test_same_idempotency_key_sent_concurrently_creates_one_order(shop):
    sku = make_sku(shop, stock=10)
    buyer = make_buyer()
    payload = order_payload(shop, (sku, 1))
    answers = run_concurrently(5, lambda _i: ApiClient(buyer.api_token).post("/orders", payload, headers={"Idempotency-Key": "same"}))
    assert {status for status, _ in answers} == {201}
    assert len({body["order_no"] for _, body in answers}) == 1
    assert Order.objects.count() == 1
    assert stock_of(sku) == {"available": 9, "locked": 1, "occupied": 0}


@pytest.mark.django_db(transaction=True)
def test_fifty_buyers_racing_for_five_units_get_exactly_five_orders(shop):
    sku = make_sku(shop, stock=5)
    buyers = [make_buyer() for _ in range(50)]
    lowest_seen = []

    def submit(index):
        answer = ApiClient(buyers[index].api_token).post("/orders", order_payload(shop, (sku, 1)))
        lowest_seen.append(StockLevel.objects.get(sku=sku).available)
        return answer

    answers = run_concurrently(50, submit)

    statuses = sorted(status for status, _ in answers)
    assert statuses.count(201) == 5
    assert statuses.count(409) == 45
    assert all(body["error"]["code"] == "out_of_stock" for status, body in answers if status == 409)
    assert min(lowest_seen) >= 0
    assert Order.objects.filter(shop=shop).count() == 5
    assert stock_of(sku) == {"available": 0, "locked": 5, "occupied": 0}


def test_merchant_sees_the_new_order_at_once(shop, sku, buyer_api, merchant_api):
    status, order = buyer_api.post("/orders", order_payload(shop, (sku, 1)))
    status, feed = merchant_api.get("/merchant/orders")
    assert status == 200
    assert feed["orders"][0]["order_no"] == order["order_no"]
    assert feed["orders"][0]["address"]["phone"] == ADDRESS["phone"]


@pytest.mark.django_db(transaction=True)
def test_one_buyer_racing_with_a_limit_one_coupon_gets_it_once(shop):
    sku = make_sku(shop, stock=20)
    buyer = make_buyer()
    coupon = make_coupon(shop, per_buyer_limit=1)
    answers = run_concurrently(
        5, lambda _i: ApiClient(buyer.api_token).post("/orders", order_payload(shop, (sku, 1), coupon_codes=[coupon.code]))
    )
    assert sorted(status for status, _ in answers) == [201, 422, 422, 422, 422]
    assert CouponRedemption.objects.filter(coupon=coupon, buyer=buyer).count() == 1
    assert stock_of(sku)["locked"] == 1


def test_the_answer_to_a_submission_is_the_order_as_read_back(shop, sku, buyer_api):
    # The 201 is built from what was just written; it must say exactly what a later read says.
    coupon = make_coupon(shop, discount="5.00")
    status, created = buyer_api.post("/orders", order_payload(shop, (sku, 2), coupon_codes=[coupon.code], buyer_message="请尽快发货"))
    assert status == 201, created
    status, read = buyer_api.get(f"/orders/{created['order_no']}")
    assert status == 200
    assert created == read
