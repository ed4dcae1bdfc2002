"""The coupon pages of the console: list by status, create (and copy) with field-named errors, figures per day, end
with a confirmation; in Chinese and English; only for roles that manage marketing, and only the shop's own coupons."""
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from orders.models import Coupon
from orders.services.coupon_campaigns import coupon_claim, coupon_create
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.constants import Role
from tests.factories import make_member, make_shop


def _form(**overrides) -> dict:
    start = timezone.localtime().replace(second=0, microsecond=0)
    data = {
        "name": "满100减10",
        "scope": "shop",
        "threshold": "100.00",
        "amount": "10.00",
        "valid_from": start.strftime("%Y-%m-%dT%H:%M"),
        "valid_to": (start + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
        "total_quantity": "100",
        "per_buyer_limit": "1",
    }
    return {**data, **overrides}


@pytest.fixture
def campaign(shop, owner):
    now = timezone.now()
    return coupon_create(
        shop=shop, actor=Actor.for_user(owner), name="老客回馈", scope="shop", sku_ids=[], threshold="99.00", amount="9.00",
        valid_from=now - timedelta(hours=1), valid_to=now + timedelta(days=3), total_quantity=50, per_buyer_limit=1,
    )


def test_owner_creates_a_coupon_through_the_form(console, shop):
    response = console.post("/marketing/coupons/new/", _form())
    coupon = Coupon.objects.get(shop=shop, name="满100减10")
    assert response.status_code == 302 and response["Location"] == f"/marketing/coupons/{coupon.pk}/"
    assert coupon.total_quantity == 100 and str(coupon.discount) == "10.00"
    page = console.get("/marketing/coupons/?status=active").content.decode()
    assert coupon.code in page and "进行中 (1)" in page


def test_the_form_names_the_bad_field(console, shop):
    response = console.post("/marketing/coupons/new/", _form(amount="150.00"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "面额须小于使用门槛" in page and not Coupon.objects.filter(shop=shop).exists()


def test_copy_prefills_the_form(console, campaign):
    page = console.get(f"/marketing/coupons/new/?copy={campaign.pk}").content.decode()
    assert "复制优惠券" in page and 'value="老客回馈"' in page and 'value="99.00"' in page and 'value="50"' in page


def test_detail_shows_figures_per_day_and_the_chart(console, campaign, buyer):
    coupon_claim(code=campaign.code, buyer=buyer)
    page = console.get(f"/marketing/coupons/{campaign.pk}/").content.decode()
    assert 'id="chart-coupon"' in page and "chart.umd.min.js" in page and "coupon-days-data" in page
    assert f"{timezone.localdate():%Y-%m-%d}" in page and "1/50" in page


def test_end_asks_for_confirmation_then_ends(console, campaign):
    page = console.get(f"/marketing/coupons/{campaign.pk}/end/").content.decode()
    assert "确认结束" in page
    assert Coupon.objects.get(pk=campaign.pk).state == Coupon.State.ACTIVE
    response = console.post(f"/marketing/coupons/{campaign.pk}/end/")
    assert response.status_code == 302
    assert Coupon.objects.get(pk=campaign.pk).state == Coupon.State.ENDED
    assert "已结束 (1)" in console.get("/marketing/coupons/").content.decode()


def test_pages_in_english(console, campaign):
    console.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = console.get("/marketing/coupons/").content.decode()
    assert "Coupons" in page and "Create coupon" in page and "In progress (1)" in page
    assert "Spend ¥99.00, save ¥9.00" in page
    assert "Daily claims, uses and discount" in console.get(f"/marketing/coupons/{campaign.pk}/").content.decode()
    assert "Confirm end" in console.get(f"/marketing/coupons/{campaign.pk}/end/").content.decode()
    assert "Copy coupon" in console.get(f"/marketing/coupons/new/?copy={campaign.pk}").content.decode()


def test_navigation_shows_coupons_only_to_roles_that_manage_marketing(console, shop):
    assert 'href="/marketing/coupons/"' in console.get("/orders/").content.decode()
    clerk = Client()
    clerk.force_login(make_member(shop, role=Role.SERVICE, username="kefu"))
    assert 'href="/marketing/coupons/"' not in clerk.get("/orders/").content.decode()
    assert clerk.get("/marketing/coupons/").status_code == 403


def test_another_shops_coupon_is_a_404(campaign):
    other = Client()
    other.force_login(make_member(make_shop("别家店"), username="other_owner"))
    assert other.get(f"/marketing/coupons/{campaign.pk}/").status_code == 404
    assert other.post(f"/marketing/coupons/{campaign.pk}/end/").status_code == 404
    assert other.get(f"/marketing/coupons/new/?copy={campaign.pk}").status_code == 404
    assert campaign.code not in other.get("/marketing/coupons/").content.decode()
    assert Coupon.objects.get(pk=campaign.pk).state == Coupon.State.ACTIVE
