"""Compensation coupons: listed for their buyer, used at the next checkout through the coupon checks, expiring on their own."""
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from orders.models import Coupon
from tests.conftest import ApiClient
from tests.factories import make_buyer, make_coupon, order_payload
from tests.orders.exception_helpers import oversold_order


def _compensated(sku, place_order, pay, merchant_api, amount="8.00") -> str:
    _order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    status, body = merchant_api.post(f"/merchant/exceptions/{exception.pk}/resolve", {"remedy": "compensate", "coupon_amount": amount})
    assert status == 200, body
    return body["coupon"]["code"]


def test_buyer_lists_the_compensation_coupon_of_the_shop(shop, sku, place_order, pay, merchant_api, buyer_api):
    code = _compensated(sku, place_order, pay, merchant_api)
    make_coupon(shop, code="SHOP5", discount="5.00", threshold="50.00")
    status, coupons = buyer_api.get(f"/coupons?shop_id={shop.pk}")
    assert status == 200, coupons
    by_code = {c["code"]: c for c in coupons}
    assert by_code[code]["kind"] == "compensation" and by_code[code]["amount"] == "8.00" and by_code[code]["threshold"] == "0.00"
    assert by_code[code]["shop_id"] == shop.pk and by_code[code]["valid_to"]
    assert by_code["SHOP5"]["kind"] == "shop"
    # another buyer sees the shop's coupon but not this buyer's compensation
    stranger = ApiClient(make_buyer("stranger").api_token)
    assert {c["code"] for c in stranger.get(f"/coupons?shop_id={shop.pk}")[1]} == {"SHOP5"}


def test_compensation_coupon_is_used_at_the_next_checkout_once(shop, sku, place_order, pay, merchant_api, buyer_api):
    code = _compensated(sku, place_order, pay, merchant_api)
    sku.stock_levels.update(available=10)
    status, order = buyer_api.post("/orders", order_payload(shop, (sku, 1), coupon_codes=[code]))
    assert status == 201, order
    assert order["amounts"]["coupon_discount"] == "8.00"
    assert code not in {c["code"] for c in buyer_api.get(f"/coupons?shop_id={shop.pk}")[1]}
    status, again = buyer_api.post("/orders", order_payload(shop, (sku, 1), coupon_codes=[code]))
    assert status == 422 and code in again["error"]["details"]["coupons"]


def test_another_buyer_cannot_use_it(shop, sku, place_order, pay, merchant_api):
    code = _compensated(sku, place_order, pay, merchant_api)
    stranger = ApiClient(make_buyer("stranger").api_token)
    status, body = stranger.post("/orders", order_payload(shop, (sku, 1), coupon_codes=[code]))
    assert status == 422 and code in body["error"]["details"]["coupons"]


def test_it_expires_on_its_own(shop, sku, place_order, pay, merchant_api, buyer_api):
    code = _compensated(sku, place_order, pay, merchant_api)
    Coupon.objects.filter(code=code).update(valid_to=timezone.now() - timedelta(seconds=1))
    assert code not in {c["code"] for c in buyer_api.get(f"/coupons?shop_id={shop.pk}")[1]}
    sku.stock_levels.update(available=10)
    status, body = buyer_api.post("/orders", order_payload(shop, (sku, 1), coupon_codes=[code]))
    assert status == 422 and "过期" in body["error"]["details"]["coupons"][code]


def test_coupons_of_an_unknown_shop_is_404(buyer_api):
    assert buyer_api.get("/coupons?shop_id=999999")[0] == 404


def test_coupon_amount_is_kept_as_decimal(sku, place_order, pay, merchant_api):
    code = _compensated(sku, place_order, pay, merchant_api, amount="12.5")
    assert Coupon.objects.get(code=code).discount == Decimal("12.50")
