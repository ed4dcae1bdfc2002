"""Console page of products: stock per warehouse, edits through the stock service, presale and delivery settings."""
from decimal import Decimal

import pytest
from django.test import Client

from orders.constants import ExceptionKind
from orders.models import OrderException, Product, StockAdjustment, StockLevel
from orders.services.products import product_settings_update
from shop_admin.kernel.errors import Invalid
from tests.factories import make_member, make_shop, make_sku


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_products_show_stock_per_warehouse_with_marks(console, shop):
    make_sku(shop, code="MANY", stock=500)
    make_sku(shop, code="FEW", stock=3)
    make_sku(shop, code="NONE", stock=0)
    page = console.get("/products/").content.decode()
    assert "MANY" in page and "有货" in page
    assert "库存紧张" in page and "已售罄" in page
    assert "杭州仓" in page


def test_stock_edit_below_committed_warns_then_force_flags_the_order(console, shop, place_order, pay):
    sku = make_sku(shop, stock=5)
    order = place_order((sku, 3))
    pay(order["order_no"])
    level = StockLevel.objects.get(sku=sku)
    page = console.post(f"/products/stock/{level.pk}/", {"on_hand": 1}, follow=True).content.decode()
    assert "会造成超卖" in page
    assert StockLevel.objects.get(pk=level.pk).occupied == 3
    console.post(f"/products/stock/{level.pk}/", {"on_hand": 1, "force": "on"})
    assert OrderException.objects.filter(order__order_no=order["order_no"], kind=ExceptionKind.OVERSELL).exists()
    adjustment = StockAdjustment.objects.get(forced=True)
    assert adjustment.actor_label == "owner" and adjustment.oversold_orders == [order["order_no"]]


def test_stock_edit_rejects_bad_numbers(console, shop):
    level = StockLevel.objects.get(sku=make_sku(shop, code="X1", stock=5))
    page = console.post(f"/products/stock/{level.pk}/", {"on_hand": "-4"}, follow=True).content.decode()
    assert "X1" in page and "0或正整数" in page
    assert StockLevel.objects.get(pk=level.pk).available == 5


def test_customer_service_cannot_edit_stock_and_warehouse_can(shop):
    level = StockLevel.objects.get(sku=make_sku(shop, stock=5))
    service = as_user(make_member(shop, role="service"))
    assert service.post(f"/products/stock/{level.pk}/", {"on_hand": 9}).status_code == 403
    assert "无权修改" in service.get("/products/").content.decode()
    warehouse = as_user(make_member(shop, role="warehouse"))
    warehouse.post(f"/products/stock/{level.pk}/", {"on_hand": 9})
    assert StockLevel.objects.get(pk=level.pk).available == 9


def test_presale_and_excluded_regions_settings(console, shop):
    sku = make_sku(shop)
    url = f"/products/{sku.product_id}/settings/"
    page = console.post(url, {"is_presale": "on"}).content.decode()
    assert "预售商品必须填写" in page
    console.post(url, {
        "is_presale": "on", "presale_deposit_ratio": "0.15", "presale_balance_due": "2026-12-20T20:00",
        "presale_ship_days": "7", "excluded_regions": ["新疆维吾尔自治区", "台湾省"],
    })
    product = Product.objects.get(pk=sku.product_id)
    assert product.is_presale and str(product.presale_deposit_ratio) == "0.15"
    assert product.excluded_regions == ["台湾省", "新疆维吾尔自治区"]
    page = console.post(url, {"is_presale": "on", "presale_deposit_ratio": "0.5", "presale_balance_due": "2026-12-20T20:00", "presale_ship_days": "7"}).content.decode()
    assert "0.2" in page  # the 10-20 % rule, named on the field


def test_the_deposit_ratio_bounds_are_the_platform_settings(console, shop, settings):
    settings.PRESALE_DEPOSIT_RATIO_MAX = Decimal("0.15")
    sku = make_sku(shop)
    url = f"/products/{sku.product_id}/settings/"
    terms = {"is_presale": "on", "presale_balance_due": "2026-12-20T20:00", "presale_ship_days": "7"}
    page = console.post(url, {**terms, "presale_deposit_ratio": "0.18"}).content.decode()
    assert "0.15" in page and "15%" in page
    assert not Product.objects.get(pk=sku.product_id).is_presale
    # the service holds the same rule for any other caller, naming the field
    with pytest.raises(Invalid) as refused:
        product_settings_update(
            product=sku.product, is_presale=True, presale_deposit_ratio=Decimal("0.18"),
            presale_balance_due=None, presale_ship_days=7, excluded_regions=[],
        )
    assert "presale_deposit_ratio" in refused.value.details["fields"]
    console.post(url, {**terms, "presale_deposit_ratio": "0.15"})
    assert str(Product.objects.get(pk=sku.product_id).presale_deposit_ratio) == "0.15"


def test_only_the_owner_edits_product_settings(shop):
    sku = make_sku(shop)
    warehouse = as_user(make_member(shop, role="warehouse"))
    assert warehouse.get(f"/products/{sku.product_id}/settings/").status_code == 403


def test_another_shops_products_are_404(shop):
    sku = make_sku(shop)
    level = StockLevel.objects.get(sku=sku)
    stranger = as_user(make_member(make_shop("隔壁店")))
    assert stranger.post(f"/products/stock/{level.pk}/", {"on_hand": 0}).status_code == 404
    assert stranger.get(f"/products/{sku.product_id}/settings/").status_code == 404
    assert sku.code not in stranger.get("/products/").content.decode()
