"""Rate coupons (折扣券): 折 as a merchant types it, one rule for the discount (half up to the fen, within the cap),
used at submission and counted in the figures per day like an amount coupon; bad terms named field by field."""
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.coupon_selectors import coupon_daily_stats
from orders.models import Coupon
from orders.services.coupon_discount import coupon_discount_on
from tests.factories import make_sku, order_payload


def _terms(shop, **overrides) -> dict:
    now = timezone.now()
    terms = {
        "shop_id": shop.pk,
        "name": "全店8.5折",
        "scope": "shop",
        "threshold": "0.00",
        "discount_type": "rate",
        "rate": "8.5",
        "max_discount": "30.00",
        "valid_from": (now - timedelta(hours=1)).isoformat(),
        "valid_to": (now + timedelta(days=7)).isoformat(),
        "total_quantity": 100,
        "per_buyer_limit": 3,
    }
    return {key: value for key, value in {**terms, **overrides}.items() if value is not None}


def _create(merchant_api, shop, **overrides) -> dict:
    status, coupon = merchant_api.post("/merchant/coupons", _terms(shop, **overrides))
    assert status == 201, coupon
    return coupon


@pytest.mark.parametrize(
    ("rate", "cap", "base", "off"),
    [
        ("0.90", "200.00", "10.05", "1.01"),  # 1.005 rounds half up, as a merchant rounds by hand
        ("0.90", "200.00", "10.04", "1.00"),  # 1.004 rounds down
        ("0.85", "200.00", "33.33", "5.00"),  # 4.9995
        ("0.99", "200.00", "0.50", "0.01"),  # 0.005: the smallest discount is a fen, not nothing
        ("0.50", "20.00", "1000.00", "20.00"),  # the cap holds
        ("0.01", "200.00", "100.00", "99.00"),  # 0.1折
    ],
)
def test_a_rate_coupon_takes_the_part_not_paid_rounded_half_up_to_the_fen_within_its_cap(rate, cap, base, off):
    coupon = Coupon(discount_rate=Decimal(rate), discount=Decimal(cap))
    assert coupon_discount_on(coupon=coupon, base=Decimal(base)) == Decimal(off)


def test_an_amount_coupon_takes_its_face_value_never_more_than_the_base():
    coupon = Coupon(discount=Decimal("10.00"))
    assert coupon_discount_on(coupon=coupon, base=Decimal("120.00")) == Decimal("10.00")
    assert coupon_discount_on(coupon=coupon, base=Decimal("6.50")) == Decimal("6.50")


def test_owner_creates_a_rate_coupon_in_zhe(shop, merchant_api):
    coupon = _create(merchant_api, shop)
    assert (coupon["discount_type"], coupon["rate"], coupon["max_discount"], coupon["amount"]) == ("rate", "8.5", "30.00", None)
    stored = Coupon.objects.get(pk=coupon["coupon_id"])
    assert stored.discount_rate == Decimal("0.85") and stored.discount == Decimal("30.00")
    listed = merchant_api.get("/merchant/coupons")[1]["coupons"][0]
    assert listed["rate"] == "8.5" and listed["discount_type"] == "rate"


def test_without_a_cap_of_its_own_a_rate_coupon_takes_at_most_the_platforms(shop, merchant_api, settings):
    settings.COUPON_AMOUNT_MAX = Decimal("50.00")
    coupon = _create(merchant_api, shop, max_discount=None, rate="9")
    assert coupon["max_discount"] == "50.00" and coupon["rate"] == "9"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"rate": "0"}, "rate"),
        ({"rate": "10"}, "rate"),  # 10折 is no discount
        ({"rate": "0.85"}, "rate"),  # a fraction where 折 is asked: two decimals are refused, not read as 0.085
        ({"rate": "abc"}, "rate"),
        ({"rate": "-1"}, "rate"),
        ({"rate": None}, "rate"),
        ({"max_discount": "300.00"}, "max_discount"),  # over the platform's cap (200)
        ({"max_discount": "0"}, "max_discount"),
        ({"amount": "10.00"}, "amount"),  # a rate coupon has no face value
        ({"discount_type": "amount", "amount": "10.00", "threshold": "100.00"}, "rate"),  # an amount coupon has no rate
        ({"discount_type": "amount", "rate": None, "max_discount": None}, "amount"),  # nor goes without its amount
    ],
)
def test_bad_rate_terms_are_refused_naming_the_field(shop, merchant_api, overrides, field):
    status, body = merchant_api.post("/merchant/coupons", _terms(shop, **overrides))
    assert status == 422, body
    assert field in body["error"]["details"]["fields"], body
    assert not Coupon.objects.filter(shop=shop).exists()


def test_a_claimed_rate_coupon_discounts_the_order_and_counts_in_the_figures_per_day(shop, merchant_api, buyer_api):
    cheap, dear = make_sku(shop, price="10.05", stock=10), make_sku(shop, price="500.00", stock=10)
    coupon = _create(merchant_api, shop, rate="9")
    assert buyer_api.post(f"/coupons/{coupon['code']}/claim")[0] == 201
    assert buyer_api.post(f"/coupons/{coupon['code']}/claim")[0] == 201
    status, first = buyer_api.post("/orders", order_payload(shop, (cheap, 1), coupon_codes=[coupon["code"]]))
    assert status == 201 and first["amounts"]["coupon_discount"] == "1.01", first
    items, freight = Decimal(first["amounts"]["items_total"]), Decimal(first["amounts"]["freight"])
    assert Decimal(first["amounts"]["payable"]) == items - Decimal("1.01") - Decimal(first["amounts"]["full_reduction"]) + freight
    status, second = buyer_api.post("/orders", order_payload(shop, (dear, 1), coupon_codes=[coupon["code"]]))
    assert status == 201 and second["amounts"]["coupon_discount"] == "30.00"  # 50.00 off at 9折, capped at 30
    listed = merchant_api.get("/merchant/coupons")[1]["coupons"][0]
    assert (listed["issued"], listed["used"], listed["discount_total"]) == (2, 2, "31.01")
    days = coupon_daily_stats(coupon=Coupon.objects.get(pk=coupon["coupon_id"]))
    assert [(d["issued"], d["used"], d["discount"]) for d in days] == [(2, 2, Decimal("31.01"))]
    status, detail = merchant_api.get(f"/merchant/coupons/{coupon['coupon_id']}")
    assert detail["days"] == [{"day": timezone.localdate().isoformat(), "issued": 2, "used": 2, "discount": "31.01"}]


def test_a_rate_coupon_with_a_threshold_waits_for_it(shop, merchant_api, buyer_api):
    sku = make_sku(shop, price="40.00", stock=10)
    coupon = _create(merchant_api, shop, threshold="100.00", rate="8")
    assert buyer_api.post(f"/coupons/{coupon['code']}/claim")[0] == 201
    status, body = buyer_api.post("/orders", order_payload(shop, (sku, 2), coupon_codes=[coupon["code"]]))
    assert status == 422 and "100" in body["error"]["details"]["coupons"][coupon["code"]]
    status, order = buyer_api.post("/orders", order_payload(shop, (sku, 3), coupon_codes=[coupon["code"]]))
    assert status == 201 and order["amounts"]["coupon_discount"] == "24.00"


def test_the_buyer_sees_the_rate_of_what_they_claimed(shop, merchant_api, buyer_api):
    coupon = _create(merchant_api, shop)
    status, claimed = buyer_api.post(f"/coupons/{coupon['code']}/claim")
    assert status == 201 and (claimed["rate"], claimed["max_discount"], claimed["amount"]) == ("8.5", "30.00", None)


def _form(**overrides) -> dict:
    start = timezone.localtime().replace(second=0, microsecond=0)
    data = {
        "name": "周末8.5折",
        "scope": "shop",
        "threshold": "50.00",
        "discount_type": "rate",
        "amount": "",
        "rate": "8.5",
        "max_discount": "20.00",
        "valid_from": start.strftime("%Y-%m-%dT%H:%M"),
        "valid_to": (start + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
        "total_quantity": "100",
        "per_buyer_limit": "1",
    }
    return {**data, **overrides}


def test_owner_creates_a_rate_coupon_through_the_form_and_sees_it_in_both_languages(console, shop):
    page = console.get("/marketing/coupons/new/").content.decode()
    assert "折扣（打折）" in page and "0.1到9.9折" in page
    response = console.post("/marketing/coupons/new/", _form())
    coupon = Coupon.objects.get(shop=shop, name="周末8.5折")
    assert response.status_code == 302 and coupon.discount_rate == Decimal("0.85") and coupon.discount == Decimal("20.00")
    assert "满¥50.00打8.5折，最多减¥20.00" in console.get("/marketing/coupons/").content.decode()
    copy = console.get(f"/marketing/coupons/new/?copy={coupon.pk}").content.decode()
    assert 'value="8.5"' in copy and re.search(r'value="rate"[^>]*checked', copy) and 'value="20.00"' in copy
    console.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Spend ¥50.00, pay 8.5/10 of the price (8.5折), at most ¥20.00 off" in console.get("/marketing/coupons/").content.decode()
    assert "Discount (pay part of the price)" in console.get("/marketing/coupons/new/").content.decode()


def test_a_bad_rate_in_the_form_is_named_and_the_input_kept(console, shop):
    response = console.post("/marketing/coupons/new/", _form(rate="0.85", name="打错了"))
    page = response.content.decode()
    assert response.status_code == 200 and "0.1到9.9折" in page and 'value="打错了"' in page and 'value="0.85"' in page
    assert not Coupon.objects.filter(shop=shop).exists()
