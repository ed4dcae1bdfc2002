"""Demo data, idempotent: two shops, their staff, products, and orders in every state made through the real services."""
import random
import uuid
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from aftersale.models import AfterSaleCase
from aftersale.services import aftersale_open
from logistics.services import shipment_create
from orders.constants import ExceptionKind, PaymentStatus
from orders.models import (
    Buyer,
    Coupon,
    FullReduction,
    Order,
    OrderEvent,
    Product,
    Sku,
    StockLevel,
)
from orders.services.exceptions import exception_open
from orders.services.lifecycle import (
    order_cancel,
    order_confirm_receipt,
    order_mark_delivered,
    order_mark_rejected,
    order_refund_close,
    order_pay_timeout,
)
from orders.services.payments import payment_callback_apply, payment_create
from orders.services.submit import ItemRequest, order_submit
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.constants import Role
from shop_admin.kernel.errors import DomainError
from shop_admin.kernel.models import Membership, MerchantApiToken, Shop, Warehouse

DEMO_PASSWORD = "demo12345"
SHOP_1 = "抖店演示旗舰店"
SHOP_2 = "小李的杂货铺"

ADDRESSES = [
    {"name": "张三", "phone": "13800138000", "province": "北京市", "city": "北京市", "district": "朝阳区", "detail": "建国路88号SOHO现代城2号楼1单元1201"},
    {"name": "李四", "phone": "13912345678", "province": "广东省", "city": "深圳市", "district": "南山区", "detail": "科技园南区高新南一道9号"},
    {"name": "王五", "phone": "15098765432", "province": "浙江省", "city": "杭州市", "district": "西湖区", "detail": "文三路478号华星时代广场A座"},
    {"name": "赵六", "phone": "18611112222", "province": "四川省", "city": "成都市", "district": "武侯区", "detail": "天府大道中段666号"},
    {"name": "孙七", "phone": "17733334444", "province": "新疆维吾尔自治区", "city": "乌鲁木齐市", "district": "天山区", "detail": "解放北路1号3单元"},
    {"name": "周八", "phone": "13655556666", "province": "上海市", "city": "上海市", "district": "浦东新区", "detail": "世纪大道100号环球金融中心"},
]
HK_MO_TW = ["香港特别行政区", "澳门特别行政区", "台湾省"]


class Command(BaseCommand):
    help = "Load the demo shops, users, products and orders (idempotent)."

    def handle(self, *args, **options):
        rng = random.Random(2026)
        users = self._users()
        shop1, shop2 = self._shops(users)
        if Order.objects.filter(shop=shop1).exists():
            self.stdout.write("demo orders already present; users and shops checked")
        else:
            skus1 = self._catalogue_shop1(shop1)
            skus2 = self._catalogue_shop2(shop2)
            self._orders(shop1, skus1, users["merchant"], rng, count=48)
            self._orders(shop2, skus2, users["merchant2"], rng, count=8)
        self.stdout.write(self.style.SUCCESS("demo ready; sign in at http://127.0.0.1:8000/login/"))
        for username in ("merchant", "service", "warehouse", "merchant2", "arbiter"):
            self.stdout.write(f"  {username:<10} password: {DEMO_PASSWORD}")

    # --- people and shops ---

    def _users(self) -> dict:
        User = get_user_model()
        users = {}
        for username in ("merchant", "service", "warehouse", "merchant2", "arbiter"):
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(DEMO_PASSWORD)
            if username == "arbiter":
                user.is_staff = True
                user.is_superuser = True
            user.save()
            users[username] = user
        return users

    def _shops(self, users) -> tuple[Shop, Shop]:
        shop1, _ = Shop.objects.get_or_create(
            name=SHOP_1, defaults={"is_flagship": True, "return_address": "浙江省杭州市余杭区仓前街道梦想小镇1号 退货组"}
        )
        shop2, _ = Shop.objects.get_or_create(name=SHOP_2, defaults={"return_address": "广东省广州市天河区体育西路1号"})
        for shop, warehouses in ((shop1, [("杭州仓", "浙江省", 0), ("广州仓", "广东省", 1)]), (shop2, [("广州仓", "广东省", 0)])):
            for name, province, priority in warehouses:
                Warehouse.objects.get_or_create(shop=shop, name=name, defaults={"province": province, "priority": priority})
        for username, shop, role in (
            ("merchant", shop1, Role.OWNER),
            ("service", shop1, Role.SERVICE),
            ("warehouse", shop1, Role.WAREHOUSE),
            ("merchant2", shop2, Role.OWNER),
        ):
            Membership.objects.get_or_create(user=users[username], shop=shop, defaults={"role": role})
            MerchantApiToken.objects.get_or_create(user=users[username])
        return shop1, shop2

    # --- catalogue ---

    def _product(self, shop, name, skus, *, stock, **fields) -> list[Sku]:
        product = Product.objects.create(shop=shop, name=name, **fields)
        made = []
        for code, spec, price in skus:
            sku = Sku.objects.create(product=product, shop=shop, code=code, spec=spec, price=Decimal(price))
            for index, warehouse in enumerate(shop.warehouses.all()):
                StockLevel.objects.create(sku=sku, warehouse=warehouse, available=stock if index == 0 else stock // 2)
            made.append(sku)
        return made

    def _catalogue_shop1(self, shop) -> dict[str, list[Sku]]:
        now = timezone.now()
        catalogue = {
            "tea": self._product(
                shop, "蜂蜜柚子茶", [("TEA-1KG", "1kg 罐装", "59.90"), ("TEA-2KG", "2kg 家庭装", "99.00")], stock=500,
                category="食品饮料", excluded_regions=HK_MO_TW,
            ),
            "cherry": self._product(
                shop, "智利车厘子 JJ级", [("CHERRY-2.5KG", "2.5kg 礼盒", "199.00")], stock=80,
                category="生鲜水果", is_fresh=True, freight=Decimal("0.00"),
                excluded_regions=["新疆维吾尔自治区", "西藏自治区", *HK_MO_TW],
            ),
            "phone": self._product(
                shop, "旗舰手机 Pro", [("PHONE-256", "256G 曜石黑", "5999.00"), ("PHONE-512", "512G 冰川蓝", "6999.00")],
                stock=30, category="数码", excluded_regions=HK_MO_TW,
            ),
            "coat": self._product(
                shop, "预售 轻薄羽绒服", [("COAT-M", "M 黑色", "399.00"), ("COAT-L", "L 黑色", "399.00")], stock=200,
                category="服饰", is_presale=True, presale_deposit_ratio=Decimal("0.20"),
                presale_balance_due=now + timedelta(days=10), presale_ship_days=7,
            ),
            "vip": self._product(shop, "视频会员月卡", [("VIP-30D", "30天", "25.00")], stock=9999, category="虚拟", is_virtual=True),
            "shoes": self._product(
                shop, "限量联名球鞋", [("SHOE-42", "42码", "1299.00")], stock=3, category="鞋靴", freight=Decimal("12.00"),
            ),
        }
        Coupon.objects.get_or_create(
            code="DEMO-SHOP-20",
            defaults={
                "shop": shop, "name": "满199减20", "discount": Decimal("20.00"), "threshold": Decimal("199.00"),
                "valid_from": now - timedelta(days=30), "valid_to": now + timedelta(days=60), "per_buyer_limit": 3,
            },
        )
        FullReduction.objects.create(
            shop=shop, threshold=Decimal("300.00"), discount=Decimal("30.00"),
            valid_from=now - timedelta(days=30), valid_to=now + timedelta(days=60),
        )
        return catalogue

    def _catalogue_shop2(self, shop) -> dict[str, list[Sku]]:
        return {
            "towel": self._product(shop, "纯棉毛巾三条装", [("TOWEL-3", "三条装 灰色", "29.90")], stock=300, freight=Decimal("5.00")),
            "cup": self._product(shop, "保温杯 500ml", [("CUP-500", "500ml 白色", "79.00")], stock=120),
        }

    # --- orders, through the same services as the API ---

    def _pay(self, order: Order, buyer: Buyer, channel: str = "douyin_pay") -> None:
        payment = payment_create(order=order, actor=Actor.for_buyer(buyer), channel=channel)
        payment_callback_apply(
            payment_id=payment.pk, channel_txn_id=f"DEMO-{uuid.uuid4().hex[:20]}", status=PaymentStatus.SUCCEEDED,
            amount=payment.amount,
        )

    def _orders(self, shop: Shop, skus: dict[str, list[Sku]], staff, rng: random.Random, *, count: int) -> None:
        buyers = [Buyer.objects.get_or_create(name=name)[0] for name in ("demo_buyer_1", "demo_buyer_2", "demo_buyer_3")]
        merchant = Actor.for_user(staff)
        carrier_numbers = {"ZTO": lambda: f"7{rng.randrange(10**13, 10**14)}", "SF": lambda: f"SF{rng.randrange(10**12, 10**13)}"}
        plan = ["pending", "paid", "shipped", "delivered", "completed", "cancelled", "expired", "closed", "rejected"]
        keys = [k for k in skus if k not in ("coat", "vip", "shoes")]
        made = []
        for index in range(count):
            target = plan[index % len(plan)]
            buyer = rng.choice(buyers)
            address = rng.choice([a for a in ADDRESSES if a["province"] != "新疆维吾尔自治区"] if "cherry" in keys else ADDRESSES)
            key = rng.choices(keys, weights=[1 if k == "phone" else 6 for k in keys])[0]  # big-ticket orders are rare
            sku = rng.choice(skus[key])
            try:
                order = order_submit(
                    buyer=buyer, shop_id=shop.pk, items=[ItemRequest(sku_id=sku.pk, quantity=rng.randint(1, 2))],
                    address=address, coupon_codes=[],
                )
                self._advance(order, target, buyer, merchant, carrier_numbers, rng)
            except DomainError as exc:
                self.stderr.write(f"demo order skipped ({target}): {exc.message}")
                continue
            made.append(order.pk)
        if "coat" in skus:
            order = order_submit(buyer=buyers[0], shop_id=shop.pk, items=[ItemRequest(sku_id=skus["coat"][0].pk, quantity=1)], address=ADDRESSES[2])
            self._pay(order, buyers[0])  # deposit paid, balance due
            made.append(order.pk)
            order = order_submit(buyer=buyers[1], shop_id=shop.pk, items=[ItemRequest(sku_id=skus["shoes"][0].pk, quantity=2)], address=ADDRESSES[1])
            self._pay(order, buyers[1])
            exception_open(order=order, kind=ExceptionKind.MERCHANT_REPORTED, actor=merchant, detail="发货前发现鞋盒破损，待补货")
            made.append(order.pk)
        # Spread the finished orders over the last 30 days so lists and charts look like a real month: their
        # whole history moves back together (times and timeline). Open orders stay recent, with live deadlines.
        stamps = ["created_at", "paid_at", "shipped_at", "delivered_at", "completed_at", "cancelled_at"]
        with transaction.atomic():
            for order in Order.objects.filter(pk__in=made, status__in=["completed", "cancelled", "closed"]):
                back = timedelta(days=rng.randint(1, 29), hours=rng.randint(0, 23))
                Order.objects.filter(pk=order.pk).update(
                    **{stamp: getattr(order, stamp) - back for stamp in stamps if getattr(order, stamp)}
                )
                OrderEvent.objects.filter(order=order).update(created_at=F("created_at") - back)
                AfterSaleCase.objects.filter(order=order).update(
                    created_at=F("created_at") - back, reply_deadline=F("reply_deadline") - back
                )

    def _advance(self, order, target, buyer, merchant, carrier_numbers, rng) -> None:
        actor = Actor.for_buyer(buyer)
        if target == "pending":
            return
        if target == "cancelled":
            order_cancel(order=order, actor=actor, reason="不想要了")
            return
        if target == "expired":
            order_pay_timeout(now=order.pay_deadline + timedelta(seconds=1), ids=[order.pk])
            return
        self._pay(order, buyer, rng.choice(["douyin_pay", "wechat", "alipay"]))
        order.refresh_from_db()
        if order.needs_risk_review or order.on_hold or target == "paid":
            return
        if target == "closed":
            order_refund_close(order=order, actor=merchant, reason="买家申请退款，商家同意")
            return
        carrier = rng.choice(list(carrier_numbers))
        shipment_create(order=order, actor=merchant, carrier=carrier, tracking_no=carrier_numbers[carrier]())
        if target == "shipped":
            if rng.random() < 0.5:
                exception_open(order=order, kind=ExceptionKind.STALLED_LOGISTICS, actor=Actor.system("demo"), detail="超过72小时无物流更新")
            return
        if target == "rejected":
            order_mark_rejected(order=order, actor=Actor.channel("carrier"), reason="买家拒收")
            return
        order_mark_delivered(order=order, actor=Actor.channel("carrier"))
        if target == "completed":
            order_confirm_receipt(order=order, actor=actor)
        if rng.random() < 0.5:
            aftersale_open(
                order=order, actor=actor, case_type=rng.choice(["refund_only", "return_refund", "exchange"]),
                reason=rng.choice(["商品破损", "与描述不符", "尺码不合适"]), description="买家上传了照片",
                evidence=["https://example.invalid/evidence/photo1.jpg"],
            )
