"""The demo catalogue: products and SKUs stocked in each warehouse, a coupon and a full reduction."""
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from orders.models import (
    Coupon,
    FullReduction,
    Product,
    Sku,
    StockLevel,
)
from shop_admin.shell.demo.clock import DEMO_DAYS
from shop_admin.shell.demo.people import HK_MO_TW


def demo_product(shop, name, skus, *, stock, **fields) -> list[Sku]:
    product = Product.objects.create(shop=shop, name=name, **fields)
    made = []
    for code, spec, price in skus:
        sku = Sku.objects.create(product=product, shop=shop, code=code, spec=spec, price=Decimal(price))
        for index, warehouse in enumerate(shop.warehouses.all()):
            StockLevel.objects.create(sku=sku, warehouse=warehouse, available=stock if index == 0 else stock // 2)
        made.append(sku)
    return made


def demo_catalogue_shop1(shop) -> dict[str, list[Sku]]:
    now = timezone.now()
    catalogue = {
        "tea": demo_product(
            shop, "蜂蜜柚子茶", [("TEA-1KG", "1kg 罐装", "59.90"), ("TEA-2KG", "2kg 家庭装", "99.00")], stock=500,
            category="食品饮料", excluded_regions=HK_MO_TW,
        ),
        "cherry": demo_product(
            shop, "智利车厘子 JJ级", [("CHERRY-2.5KG", "2.5kg 礼盒", "199.00")], stock=300,
            category="生鲜水果", is_fresh=True, freight=Decimal("0.00"),
            excluded_regions=["新疆维吾尔自治区", "西藏自治区", *HK_MO_TW],
        ),
        "phone": demo_product(
            shop, "旗舰手机 Pro", [("PHONE-256", "256G 曜石黑", "5999.00"), ("PHONE-512", "512G 冰川蓝", "6999.00")],
            stock=30, category="数码", excluded_regions=HK_MO_TW,
        ),
        "coat": demo_product(
            shop, "预售 轻薄羽绒服", [("COAT-M", "M 黑色", "399.00"), ("COAT-L", "L 黑色", "399.00")], stock=200,
            category="服饰", is_presale=True, presale_deposit_ratio=Decimal("0.20"),
            presale_balance_due=now + timedelta(days=10), presale_ship_days=7,
        ),
        "vip": demo_product(shop, "视频会员月卡", [("VIP-30D", "30天", "25.00")], stock=9999, category="虚拟", is_virtual=True),
        "shoes": demo_product(
            shop, "限量联名球鞋", [("SHOE-42", "42码", "1299.00")], stock=3, category="鞋靴", freight=Decimal("12.00"),
        ),
    }
    Coupon.objects.get_or_create(
        code="DEMO-SHOP-20",
        defaults={
            "shop": shop, "name": "满199减20", "discount": Decimal("20.00"), "threshold": Decimal("199.00"),
            "valid_from": now - timedelta(days=DEMO_DAYS), "valid_to": now + timedelta(days=60), "per_buyer_limit": 3,
        },
    )
    FullReduction.objects.create(
        shop=shop, threshold=Decimal("300.00"), discount=Decimal("30.00"),
        valid_from=now - timedelta(days=DEMO_DAYS), valid_to=now + timedelta(days=60),
    )
    return catalogue


def demo_catalogue_shop2(shop) -> dict[str, list[Sku]]:
    return {
        "towel": demo_product(shop, "纯棉毛巾三条装", [("TOWEL-3", "三条装 灰色", "29.90")], stock=300, freight=Decimal("5.00")),
        "cup": demo_product(shop, "保温杯 500ml", [("CUP-500", "500ml 白色", "79.00")], stock=120),
    }
