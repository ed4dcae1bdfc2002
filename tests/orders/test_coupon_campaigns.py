"""Coupon campaigns: the merchant's terms checked field by field, claims held to the total and the per-buyer limit,
claimed coupons used at checkout and outliving the campaign's end, figures per day, and another shop kept out."""
from datetime import timedelta

import pytest
from django.utils import timezone

from orders.coupon_selectors import coupon_daily_stats
from orders.models import Buyer, Coupon, CouponClaim, CouponEvent
from shop_admin.kernel.constants import Role
from tests.concurrency import run_pooled
from tests.conftest import ApiClient
from tests.factories import make_buyer, make_coupon, make_member, make_shop, make_sku, order_payload


def _terms(shop, **overrides) -> dict:
    now = timezone.now()
    terms = {
        "shop_id": shop.pk,
        "name": "满100减10",
        "scope": "shop",
        "threshold": "100.00",
        "amount": "10.00",
        "valid_from": (now - timedelta(hours=1)).isoformat(),
        "valid_to": (now + timedelta(days=7)).isoformat(),
        "total_quantity": 100,
        "per_buyer_limit": 1,
    }
    return {**terms, **overrides}


def _create(merchant_api, shop, **overrides) -> dict:
    status, coupon = merchant_api.post("/merchant/coupons", _terms(shop, **overrides))
    assert status == 201, coupon
    return coupon


def test_owner_creates_a_coupon_and_sees_it_listed_with_its_figures(shop, owner, merchant_api):
    coupon = _create(merchant_api, shop)
    assert coupon["status"] == "active" and coupon["issued"] == 0 and coupon["used"] == 0 and coupon["discount_total"] == "0.00"
    assert coupon["code"].startswith("SC") and coupon["amount"] == "10.00" and coupon["threshold"] == "100.00"
    status, feed = merchant_api.get("/merchant/coupons?status=active")
    assert status == 200 and [c["coupon_id"] for c in feed["coupons"]] == [coupon["coupon_id"]]
    assert merchant_api.get("/merchant/coupons?status=ended")[1]["coupons"] == []
    assert CouponEvent.objects.filter(coupon_id=coupon["coupon_id"], kind="created", actor_user=owner).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": "100.00"}, "amount"),  # amount >= threshold
        ({"amount": "300.00", "threshold": "1000.00"}, "amount"),  # over the platform's cap (200)
        ({"amount": "abc"}, "amount"),
        ({"threshold": "-1"}, "threshold"),
        ({"valid_to": "2020-01-01T00:00:00+08:00", "valid_from": "2020-02-01T00:00:00+08:00"}, "valid_to"),
        ({"scope": "skus", "sku_ids": []}, "sku_ids"),
        ({"name": ""}, "name"),
        ({"total_quantity": 0}, "total_quantity"),
    ],
)
def test_bad_terms_are_refused_naming_the_field(shop, merchant_api, overrides, field):
    status, body = merchant_api.post("/merchant/coupons", _terms(shop, **overrides))
    assert status == 422, body
    assert field in str(body["error"]["details"]), body
    assert not Coupon.objects.filter(shop=shop).exists()


def test_the_cap_is_a_setting(shop, merchant_api, settings):
    settings.COUPON_AMOUNT_MAX = 5
    status, body = merchant_api.post("/merchant/coupons", _terms(shop))
    assert status == 422 and "5" in body["error"]["details"]["fields"]["amount"]


def test_skus_of_another_shop_are_refused(shop, sku, merchant_api):
    foreign = make_sku(make_shop("别家店"))
    status, body = merchant_api.post("/merchant/coupons", _terms(shop, scope="skus", sku_ids=[sku.pk, foreign.pk]))
    assert status == 422 and str(foreign.pk) in body["error"]["details"]["fields"]["sku_ids"]
    coupon = _create(merchant_api, shop, scope="skus", sku_ids=[sku.pk])
    assert coupon["sku_ids"] == [sku.pk]


def test_another_shop_never_sees_or_touches_a_coupon(shop, merchant_api):
    coupon = _create(merchant_api, shop)
    other = ApiClient(make_member(make_shop("别家店"), username="other_owner").api_token.key)
    assert other.get("/merchant/coupons")[1]["coupons"] == []
    assert other.get(f"/merchant/coupons/{coupon['coupon_id']}")[0] == 404
    assert other.post(f"/merchant/coupons/{coupon['coupon_id']}/end")[0] == 404
    assert other.post("/merchant/coupons", _terms(shop))[0] == 404
    assert Coupon.objects.get(pk=coupon["coupon_id"]).state == Coupon.State.ACTIVE


def test_only_roles_that_manage_marketing_may_create(shop, merchant_api):
    service = ApiClient(make_member(shop, role=Role.SERVICE, username="kefu").api_token.key)
    assert service.post("/merchant/coupons", _terms(shop))[0] == 403
    coupon = _create(merchant_api, shop)
    assert service.post(f"/merchant/coupons/{coupon['coupon_id']}/end")[0] == 403


def test_claim_answers(shop, merchant_api, buyer_api):
    coupon = _create(merchant_api, shop, total_quantity=1, per_buyer_limit=1)
    status, claimed = buyer_api.post(f"/coupons/{coupon['code']}/claim")
    assert status == 201 and claimed["code"] == coupon["code"] and claimed["claimed_at"]
    status, body = buyer_api.post(f"/coupons/{coupon['code']}/claim")
    assert status == 409 and body["error"]["code"] == "claim_limit_reached"
    status, body = ApiClient(make_buyer("late").api_token).post(f"/coupons/{coupon['code']}/claim")
    assert status == 409 and body["error"]["code"] == "coupon_exhausted"
    assert buyer_api.post("/coupons/NOPE/claim")[0] == 404


def test_a_campaign_coupon_is_used_at_checkout_only_once_claimed(shop, merchant_api, buyer_api):
    sku = make_sku(shop, price="120.00", stock=10)
    coupon = _create(merchant_api, shop)
    status, body = buyer_api.post("/orders", order_payload(shop, (sku, 1), coupon_codes=[coupon["code"]]))
    assert status == 422 and coupon["code"] in body["error"]["details"]["coupons"]
    assert buyer_api.post(f"/coupons/{coupon['code']}/claim")[0] == 201
    assert coupon["code"] in {c["code"] for c in buyer_api.get(f"/coupons?shop_id={shop.pk}")[1]}
    status, order = buyer_api.post("/orders", order_payload(shop, (sku, 1), coupon_codes=[coupon["code"]]))
    assert status == 201 and order["amounts"]["coupon_discount"] == "10.00"
    status, body = buyer_api.post("/orders", order_payload(shop, (sku, 1), coupon_codes=[coupon["code"]]))
    assert status == 422, body
    listed = merchant_api.get("/merchant/coupons")[1]["coupons"][0]
    assert (listed["issued"], listed["used"], listed["discount_total"]) == (1, 1, "10.00")


def test_a_sku_coupon_counts_only_its_skus_towards_the_threshold(shop, merchant_api, buyer_api):
    chosen, other = make_sku(shop, price="60.00", stock=10), make_sku(shop, price="80.00", stock=10)
    coupon = _create(merchant_api, shop, scope="skus", sku_ids=[chosen.pk])
    assert buyer_api.post(f"/coupons/{coupon['code']}/claim")[0] == 201
    status, body = buyer_api.post("/orders", order_payload(shop, (chosen, 1), (other, 1), coupon_codes=[coupon["code"]]))
    assert status == 422 and "100" in body["error"]["details"]["coupons"][coupon["code"]]
    status, order = buyer_api.post("/orders", order_payload(shop, (chosen, 2), coupon_codes=[coupon["code"]]))
    assert status == 201 and order["amounts"]["coupon_discount"] == "10.00"


def test_ending_stops_claims_but_claimed_coupons_stay_usable(shop, merchant_api, buyer_api):
    sku = make_sku(shop, price="120.00", stock=10)
    coupon = _create(merchant_api, shop)
    assert buyer_api.post(f"/coupons/{coupon['code']}/claim")[0] == 201
    status, ended = merchant_api.post(f"/merchant/coupons/{coupon['coupon_id']}/end")
    assert status == 200 and ended["status"] == "ended" and ended["ended_at"]
    assert merchant_api.post(f"/merchant/coupons/{coupon['coupon_id']}/end")[0] == 409
    status, body = ApiClient(make_buyer("late").api_token).post(f"/coupons/{coupon['code']}/claim")
    assert status == 409 and body["error"]["code"] == "coupon_ended"
    assert coupon["code"] in {c["code"] for c in buyer_api.get(f"/coupons?shop_id={shop.pk}")[1]}
    status, order = buyer_api.post("/orders", order_payload(shop, (sku, 1), coupon_codes=[coupon["code"]]))
    assert status == 201 and order["amounts"]["coupon_discount"] == "10.00"


def test_a_coupon_without_total_is_used_without_claiming_as_before(shop, buyer_api):
    sku = make_sku(shop, price="50.00", stock=10)
    make_coupon(shop, code="DEMO5", discount="5.00", threshold="30.00")
    status, order = buyer_api.post("/orders", order_payload(shop, (sku, 1), coupon_codes=["DEMO5"]))
    assert status == 201 and order["amounts"]["coupon_discount"] == "5.00"
    assert buyer_api.post("/coupons/DEMO5/claim")[1]["error"]["code"] == "coupon_not_claimable"


def test_figures_per_day_in_shop_time(shop, merchant_api, buyer_api):
    sku = make_sku(shop, price="120.00", stock=10)
    coupon = _create(merchant_api, shop, per_buyer_limit=3)
    for _ in range(3):
        assert buyer_api.post(f"/coupons/{coupon['code']}/claim")[0] == 201
    assert buyer_api.post("/orders", order_payload(shop, (sku, 1), coupon_codes=[coupon["code"]]))[0] == 201
    # one claim made "yesterday" in shop time
    yesterday = timezone.localtime() - timedelta(days=1)
    first = CouponClaim.objects.filter(coupon_id=coupon["coupon_id"]).order_by("pk").first()
    CouponClaim.objects.filter(pk=first.pk).update(claimed_at=yesterday)
    days = coupon_daily_stats(coupon=Coupon.objects.get(pk=coupon["coupon_id"]))
    assert [(d["day"], d["issued"], d["used"], str(d["discount"])) for d in days] == [
        (yesterday.date(), 1, 0, "0.00"),
        (timezone.localdate(), 2, 1, "10.00"),
    ]
    status, detail = merchant_api.get(f"/merchant/coupons/{coupon['coupon_id']}")
    assert status == 200 and detail["days"][-1] == {"day": timezone.localdate().isoformat(), "issued": 2, "used": 1, "discount": "10.00"}


@pytest.mark.django_db(transaction=True)
def test_three_hundred_buyers_claiming_a_coupon_of_one_hundred_get_exactly_one_hundred():
    # given: a campaign of 100 and 300 buyers asking at once (16 connections, the machine's share)
    shop = make_shop("秒杀店")
    now = timezone.now()
    coupon = make_coupon(shop, code="RACE100", discount="10.00", threshold="100.00", total_quantity=100,
                         valid_from=now - timedelta(hours=1), valid_to=now + timedelta(days=1))
    buyers = Buyer.objects.bulk_create([Buyer(name=f"race-{n:03d}") for n in range(300)])

    def claim(buyer):
        return ApiClient(buyer.api_token).post(f"/coupons/{coupon.code}/claim")

    # when
    answers = run_pooled(claim, buyers, workers=16)

    # then
    statuses = [status for status, _ in answers]
    assert statuses.count(201) == 100 and statuses.count(409) == 200
    assert {body["error"]["code"] for status, body in answers if status == 409} == {"coupon_exhausted"}
    assert Coupon.objects.get(pk=coupon.pk).issued == 100
    assert CouponClaim.objects.filter(coupon=coupon).count() == 100


@pytest.mark.django_db(transaction=True)
def test_one_buyer_claiming_from_many_devices_at_once_stays_within_the_per_buyer_limit():
    shop = make_shop("限领店")
    now = timezone.now()
    coupon = make_coupon(shop, code="LIMIT2", discount="10.00", threshold="100.00", total_quantity=100, per_buyer_limit=2,
                         valid_from=now - timedelta(hours=1), valid_to=now + timedelta(days=1))
    buyer = make_buyer("many-devices")

    answers = run_pooled(lambda _i: ApiClient(buyer.api_token).post(f"/coupons/{coupon.code}/claim"), range(12), workers=12)

    assert sorted(status for status, _ in answers) == [201, 201] + [409] * 10
    assert {body["error"]["code"] for status, body in answers if status == 409} == {"claim_limit_reached"}
    assert Coupon.objects.get(pk=coupon.pk).issued == 2
